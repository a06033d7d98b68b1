"""The targets app's answers to the events of the apps below it."""

from django.dispatch import receiver

from dashboards.signals import figures_built

from . import services


@receiver(figures_built, dispatch_uid="targets.figures_built")
def on_figures_built(sender, *, days, **kwargs) -> dict:
    """The dashboards built the figures of ``days``: the attainment of the periods holding them, from those rows."""
    return services.attainment_build(days=days)
