"""A load's report as text: what the ETL team reads beside a rejected file, and what the tests compare with their
golden copies. Values are masked; reasons in zh-hans and English."""

from .models import Load

NOTICE_ORDER = (
    "unchanged",
    "no_rm",
    "unknown_rm",
    "rm_differs",
    "branch_differs",
    "closed_holdings",
    "consent_older",
    "consent_withdrawn",
    "unknown_columns",
)


def report_lines(load: Load, *, limit: int = 10_000) -> list[str]:
    lines = [
        f"{load.file_name}\t{load.kind}\t{load.business_date:%Y-%m-%d}\t{load.status}",
        f"read={load.rows_read}\tloaded={load.rows_loaded}\tchanged={load.rows_changed}\trejected={load.rows_rejected}",
    ]
    if load.error_code:
        lines += [f"error={load.error_code}", load.message, load.message_en]
    summary = load.summary or {}
    for code in NOTICE_ORDER:
        detail = summary.get(code)
        if isinstance(detail, dict) and detail.get("count"):
            sample = ",".join(map(str, detail.get("sample", [])[:10]))
            lines.append(f"notice={code}\t{detail['count']}\t{sample}")
    for error in load.errors.order_by("line", "pk")[:limit]:
        lines.append(f"{error.line}\t{error.column}\t{error.value}\t{error.code}\t{error.reason}\t{error.reason_en}")
    return lines
