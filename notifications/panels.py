"""The registry of the notifications page: apps above (relationships) say, for the notifications of a page, which
link to a customer the reader may no longer open (``notification.customer_link``), without notifications
importing them (docs/architecture.md, "Pages made of panels")."""

from crm_site.panels import PanelRegistry

# Providers: (request, notifications of the page, a list) -> context; they may set attributes on the notifications.
notification_list = PanelRegistry("notifications:notification-list")
