"""One data point of a declared custom metric (chalicelib/runtime/resources.py ALARMED_METRICS),
in CloudWatch's embedded metric format on stdout, flushed at once."""
from __future__ import annotations

from chalicelib.runtime import resources


def emit(metric: resources.CustomMetric, value: float) -> None:
    """Powertools is imported here: a delivery that emits nothing pays nothing for it."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric
    with single_metric(name=metric.name, unit=MetricUnit(metric.unit), value=value,
                       namespace=resources.METRICS_NAMESPACE, default_dimensions={"service": metric.service}):
        pass
