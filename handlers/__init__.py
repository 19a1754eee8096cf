"""The Lambda entry points: consumers (EventBridge rule -> SQS -> Lambda, streams) and schedules."""
