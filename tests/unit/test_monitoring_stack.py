"""Operators' topic, alarms on every failure signal of the flow, and a dashboard."""

from __future__ import annotations

from tests.unit.conftest import render

FUNCTIONS = (
    "FaceCropFunction",
    "FaceSwapFunction",
    "FaceSwapCompletionFunction",
    "PipelineDeadLetterFunction",
    "AgreementFunction",
    "StylesFunction",
    "UploadFunction",
    "ImagesFunction",
    "ErasureFunction",
    "BuildTriggerFunction",
    "BuildStatusFunction",
    "BuildEventsFunction",
)
QUEUES = (
    "FaceCropDeadLetterQueue",
    "FaceSwapDeadLetterQueue",
    "FaceSwapCompletionDeadLetterQueue",
    "BuildEventsDeadLetterQueue",
)


def _alarms(synth) -> dict[str, dict]:
    return {
        k: a["Properties"]
        for k, a in synth.resources("Monitoring", "AWS::CloudWatch::Alarm").items()
    }


def test_an_errors_alarm_for_every_function(synth):
    alarms = _alarms(synth)
    for name in FUNCTIONS:
        (alarm,) = [a for k, a in alarms.items() if k.startswith(f"{name}Errors")]
        assert alarm["MetricName"] == "Errors"
        assert alarm["Threshold"] == 1


def test_a_messages_alarm_for_every_dead_letter_queue(synth):
    alarms = _alarms(synth)
    for name in QUEUES:
        (alarm,) = [a for k, a in alarms.items() if k.startswith(f"{name}Messages")]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"


def test_api_and_inference_alarms(synth):
    alarms = _alarms(synth)
    by_metric = {a["MetricName"]: a for a in alarms.values()}
    assert by_metric["5XXError"]["Dimensions"][0]["Name"] == "ApiName"
    assert "InferenceErrorTopic" in render(
        by_metric["NumberOfMessagesPublished"]["Dimensions"][0]["Value"]
    )
    age = by_metric["ApproximateAgeOfOldestRequest"]
    assert age["Dimensions"] == [{"Name": "EndpointName", "Value": "style-facechain"}]
    assert age["Threshold"] == 1800
    assert len(alarms) == len(FUNCTIONS) + len(QUEUES) + 4


def test_an_alarm_when_an_event_failed_every_retry(synth):
    """The dead-letter consumer empties the swap and completion queues: operators see each
    exhausted event through its invocations."""
    (alarm,) = [a for k, a in _alarms(synth).items() if k.startswith("PipelineEventsExhausted")]
    assert alarm["MetricName"] == "Invocations"
    assert alarm["Statistic"] == "Sum"
    assert "PipelineDeadLetterFunction" in render(alarm["Dimensions"][0]["Value"])
    assert alarm["Threshold"] == 1


def test_every_alarm_notifies_the_operators_topic(synth):
    for alarm in _alarms(synth).values():
        (action,) = alarm["AlarmActions"]
        assert "OperationsTopic" in render(action)
    (board,) = synth.resources("Monitoring", "AWS::CloudWatch::Dashboard").values()
    body = render(board["Properties"]["DashboardBody"])
    assert "ApproximateBacklogSize" in body


def test_operators_topic_is_encrypted_and_emails_when_configured(synth, synth_overridden):
    (topic,) = synth.resources("Alerts", "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    assert not synth.resources("Alerts", "AWS::SNS::Subscription")
    (sub,) = synth_overridden.resources("Alerts", "AWS::SNS::Subscription").values()
    assert sub["Properties"] == {
        "Endpoint": "ops@example.com",
        "Protocol": "email",
        "TopicArn": {"Ref": next(iter(synth_overridden.resources("Alerts", "AWS::SNS::Topic")))},
    }
