"""Pages that show what apps above their own know: a page of a lower app owns a ``PanelRegistry``, the apps above
register a provider on it in their ``AppConfig.ready``, and the page merges every provider's context. The lower
app imports none of them, so the dependency runs one way (docs/architecture.md, "Pages made of panels")."""

from collections.abc import Callable

Provider = Callable[..., dict]  # (request, *the page's objects) -> template context


class PanelRegistry:
    def __init__(self, page: str) -> None:
        self.page = page
        self._providers: list[Provider] = []

    def register(self, provider: Provider) -> Provider:
        """Add a provider (usable as a decorator). Registering the same function twice keeps one."""
        if provider not in self._providers:
            self._providers.append(provider)
        return provider

    def context(self, request, *objects) -> dict:
        """Every provider's context, merged in registration order."""
        merged: dict = {}
        for provider in self._providers:
            merged.update(provider(request, *objects))
        return merged
