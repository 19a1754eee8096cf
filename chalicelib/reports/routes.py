"""Routes of the statistics: report form 06 (JSON, CSV, XLSX), drill-down, payment and
satisfaction reports, and the leaders' dashboard."""
from __future__ import annotations

from typing import Any

from chalicelib.edge.routing import PDF, XLSX, Routes
from chalicelib.edge.web import int_param, json_response, query_param

routes = Routes(__name__)


def _as_of(request: Any) -> Any:
    """``as_of``: the day whose agencies the figures are grouped by (merger day roll-up), or None."""
    from datetime import date
    from chalicelib.kernel.errors import ValidationFailed
    raw = query_param(request, "as_of", max_len=10)
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise ValidationFailed(fields={"as_of": "Ngày không hợp lệ, dạng YYYY-MM-DD."}) from None


def _report_params(request: Any) -> dict[str, Any]:
    from chalicelib.reports.use_cases import reports as report_service
    start, end = report_service.parse_period(query_param(request, "from", max_len=10), query_param(request, "to", max_len=10))
    return {"start": start, "end": end, "as_of": _as_of(request),
            "group_by": report_service.parse_group_by(query_param(request, "group_by", max_len=20)),
            "agency_id": query_param(request, "agency_id", max_len=40)}


@routes.route("/reports/dossiers")
def dossier_report() -> Any:
    from chalice import Response
    from chalicelib.reports.rules import export as report_export
    from chalicelib.reports.use_cases import reports as report_service
    from chalicelib.kernel.errors import ValidationFailed
    request = routes.request()
    identity = routes.caller()
    params = _report_params(request)
    fmt = query_param(request, "format", max_len=10) or "json"
    if fmt not in ("json", "csv", "xlsx"):
        raise ValidationFailed(fields={"format": "Phải là json, csv hoặc xlsx."})
    report = report_service.dossier_report(identity, **params)
    if fmt == "json":
        return json_response(report)
    unit = report_service.unit_name(identity, params["agency_id"])
    name = f"bieu06_{params['start']}_{params['end']}.{fmt}"
    body, mime = (report_export.to_csv(report, unit), "text/csv; charset=utf-8") if fmt == "csv" \
        else (report_export.to_xlsx(report, unit), XLSX)
    return Response(body=body, status_code=200,
                    headers={"Content-Type": mime, "Content-Disposition": f'attachment; filename="{name}"'})


@routes.route("/reports/register")
def dossier_register() -> Any:
    """The dossier register (sổ theo dõi hồ sơ, Circular 03/2025/TT-VPCP form 07) as PDF or XLSX."""
    from chalice import Response
    from chalicelib.kernel.errors import ValidationFailed
    from chalicelib.reports.use_cases import reports as report_service
    from chalicelib.reports.use_cases.register import register
    request = routes.request()
    identity = routes.caller()
    start, end = report_service.parse_period(query_param(request, "from", max_len=10), query_param(request, "to", max_len=10))
    fmt = query_param(request, "format", max_len=10) or "pdf"
    if fmt not in ("pdf", "xlsx"):
        raise ValidationFailed(fields={"format": "Phải là pdf hoặc xlsx."})
    body = register(identity, start=start, end=end, agency_id=query_param(request, "agency_id", max_len=40), fmt=fmt)
    name = f"so-theo-doi-ho-so_{start}_{end}.{fmt}"
    return Response(body=body, status_code=200, headers={
        "Content-Type": PDF if fmt == "pdf" else XLSX, "Content-Disposition": f'attachment; filename="{name}"'})


@routes.route("/reports/dossiers/items")
def dossier_report_items() -> Any:
    from chalicelib.reports.use_cases import reports as report_service
    request = routes.request()
    identity = routes.caller()
    params = _report_params(request)
    return json_response(report_service.drill_down(
        identity, **params, cell=query_param(request, "cell", max_len=40), group=query_param(request, "group", max_len=60),
        cursor=query_param(request, "cursor", max_len=200), limit=int_param(request, "limit", 50, 1, 500)))


@routes.route("/dashboard")
def dashboard() -> Any:
    from chalice import Response
    from chalicelib.reports.static import read_static
    return Response(body=read_static("dashboard.html"), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


@routes.route("/dashboard/chart.umd.min.js")
def dashboard_chart_library() -> Any:
    from chalice import Response
    from chalicelib.reports.static import read_static
    return Response(body=read_static("chart.umd.min.js"), status_code=200,
                    headers={"Content-Type": "application/javascript; charset=utf-8",
                             "Cache-Control": "public, max-age=86400"})


def _period_report(name: str) -> Any:
    from chalicelib.reports.use_cases import reports as report_service
    request = routes.request()
    identity = routes.caller()
    params = _report_params(request)
    params.pop("as_of")
    return json_response(getattr(report_service, name)(identity, **params))


@routes.route("/reports/payments")
def payment_report() -> Any:
    return _period_report("payment_report")


@routes.route("/reports/satisfaction")
def satisfaction_report() -> Any:
    return _period_report("satisfaction_report")


# --- the national service index (Decision 766) ------------------------------------------------

def _index_params(request: Any) -> dict[str, Any]:
    from chalicelib.reports.use_cases import reports as report_service
    start, end = report_service.parse_period(query_param(request, "from", max_len=10), query_param(request, "to", max_len=10))
    return {"start": start, "end": end, "agency_id": query_param(request, "agency_id", max_len=64),
            "procedure_code": query_param(request, "procedure_code", max_len=20), "as_of": _as_of(request)}


@routes.route("/reports/indicators")
def index_indicators() -> Any:
    from chalice import Response
    from chalicelib.kernel.errors import ValidationFailed
    from chalicelib.reports.rules import export as report_export
    from chalicelib.reports.use_cases import index766
    from chalicelib.reports.use_cases import reports as report_service
    request = routes.request()
    identity = routes.caller()
    params = _index_params(request)
    fmt = query_param(request, "format", max_len=10) or "json"
    if fmt not in ("json", "xlsx"):
        raise ValidationFailed(fields={"format": "Phải là json hoặc xlsx."})
    table = index766.indicators(identity, **params)
    if fmt == "json":
        return json_response(table)
    body = report_export.index_to_xlsx(table, report_service.unit_name(identity, params["agency_id"]))
    name = f"chiso766_{params['start']}_{params['end']}.xlsx"
    return Response(body=body, status_code=200,
                    headers={"Content-Type": XLSX, "Content-Disposition": f'attachment; filename="{name}"'})


@routes.route("/reports/indicators/items")
def index_items() -> Any:
    from chalicelib.reports.use_cases import index766
    request = routes.request()
    return json_response(index766.items(
        routes.caller(), **_index_params(request), indicator=query_param(request, "indicator", max_len=10),
        part=query_param(request, "part", max_len=20), cursor=query_param(request, "cursor", max_len=200),
        limit=int_param(request, "limit", 50, 1, 500)))


@routes.route("/reports/indicators/at-risk")
def index_at_risk() -> Any:
    from datetime import datetime, UTC
    from chalicelib.kernel.working_days import to_local
    from chalicelib.reports.use_cases import index766
    request = routes.request()
    return json_response(index766.at_risk(routes.caller(), agency_id=query_param(request, "agency_id", max_len=64),
                                          today=to_local(datetime.now(UTC)).date()))
