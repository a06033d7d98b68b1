"""The record of the daily jobs' runs, and the catch-up of the runs the beat schedule missed (docs/reminders.md,
"Missed runs")."""
