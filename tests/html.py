"""Reading rendered pages the way a user reads them: the text inside one marked region."""

from html.parser import HTMLParser


class _Region(HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, testid: str):
        super().__init__()
        self.testid, self.depth, self.parts, self.found = testid, 0, [], False

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("data-testid") == self.testid:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def region_text(html: str | bytes, testid: str) -> str:
    """The text of every element marked ``data-testid=<testid>`` (all of them, concatenated)."""
    if isinstance(html, bytes):
        html = html.decode()
    parser = _Region(testid)
    parser.feed(html)
    assert parser.found, f"no element with data-testid={testid!r} on the page"
    return " ".join(" ".join(parser.parts).split())
