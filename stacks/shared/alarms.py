"""Operators' alarms: each (name, metric, threshold, description) an alarm at or above its
threshold over one period, missing data not breaching, notifying the operators' topic."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

AlarmRow = tuple[str, cw.IMetric, float, str]


def operator_alarms(
    scope: Construct, topic: sns.ITopic, rows: Iterable[AlarmRow]
) -> list[cw.Alarm]:
    out = []
    for name, metric, threshold, description in rows:
        alarm = cw.Alarm(
            scope,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
        out.append(alarm)
    return out
