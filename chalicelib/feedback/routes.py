"""Routes of citizens' feedback (phản ánh, kiến nghị): filed by a citizen or recorded by a desk
officer, answered by the agency, published when answered, liked or disliked by the citizen."""
from __future__ import annotations

from typing import Any

from chalicelib.edge.routing import Routes
from chalicelib.edge.web import json_response, parse_json_body, query_param

routes = Routes(__name__)


@routes.route("/feedback", method="POST")
def submit_feedback() -> Any:
    from chalicelib.feedback.use_cases import feedback
    return json_response(feedback.submit(parse_json_body(routes.request()), routes.caller()), status=201)


@routes.route("/feedback")
def list_feedback() -> Any:
    from chalicelib.feedback.use_cases import feedback
    from chalicelib.reports.use_cases.reports import parse_period
    request = routes.request()
    start, end = parse_period(query_param(request, "from", max_len=10), query_param(request, "to", max_len=10))
    return json_response(feedback.listing(routes.caller(), agency_id=query_param(request, "agency_id", max_len=64),
                                          start=start, end=end))


@routes.route("/feedback/published")
def published_feedback() -> Any:
    from chalicelib.feedback.use_cases import feedback
    return json_response(feedback.published(query_param(routes.request(), "agency_id", max_len=64)))


@routes.route("/feedback/{feedback_id}")
def read_feedback(feedback_id: str) -> Any:
    from chalicelib.feedback.use_cases import feedback
    return json_response(feedback.read(feedback_id, routes.caller()))


def _act(name: str, feedback_id: str) -> Any:
    from chalicelib.feedback.use_cases import feedback
    return json_response(getattr(feedback, name)(feedback_id, parse_json_body(routes.request()), routes.caller()))


@routes.route("/feedback/{feedback_id}/answer", method="POST")
def answer_feedback(feedback_id: str) -> Any:
    return _act("answer", feedback_id)


@routes.route("/feedback/{feedback_id}/refuse", method="POST")
def refuse_feedback(feedback_id: str) -> Any:
    return _act("refuse", feedback_id)


@routes.route("/feedback/{feedback_id}/supplement-request", method="POST")
def request_feedback_supplement(feedback_id: str) -> Any:
    return _act("request_supplement", feedback_id)


@routes.route("/feedback/{feedback_id}/supplement", method="POST")
def supply_feedback(feedback_id: str) -> Any:
    return _act("supply", feedback_id)


@routes.route("/feedback/{feedback_id}/reaction", method="POST")
def react_to_feedback(feedback_id: str) -> Any:
    return _act("react", feedback_id)
