"""cdk-nag AwsSolutions over the whole app: no unacknowledged error or warning."""

from __future__ import annotations

import pytest


def _violations(report: dict) -> list[str]:
    return [
        f"{v['ruleName']} at {c['constructPath']}"
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        for c in v["violatingConstructs"]
    ]


def test_app_synthesizes_with_zero_unacknowledged_findings(synth):
    assert synth.error is None, _violations(synth.validation_report)
    assert _violations(synth.validation_report) == []
    assert synth.stack_ids == [
        "Storage",
        "Tables",
        "Identity",
        "Alerts",
        "ContainerBuild",
        "FaceChain",
        "Functions",
        "Albums",
        "Api",
        "Live",
        "Monitoring",
        "Training",
    ]


def test_overridden_context_is_clean_too(synth_overridden):
    """Acknowledgements name findings by the rendered resources: they follow renamed stacks."""
    assert synth_overridden.error is None, _violations(synth_overridden.validation_report)


def test_the_checks_do_run_and_fail_an_insecure_construct(tmp_path):
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    from stacks.nag import add_checks

    app = cdk.App(outdir=str(tmp_path), context={"@aws-cdk/core:validationReportJson": True})
    s3.Bucket(cdk.Stack(app, "Insecure"), "Bucket")
    add_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    import json

    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v.split(" at ")[0] for v in _violations(report)}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules


def test_an_acknowledgement_needs_a_specific_reason():
    import aws_cdk as cdk

    from stacks.nag import acknowledge

    with pytest.raises(ValueError, match="specific reason"):
        acknowledge(cdk.App(), "AwsSolutions-S1", "not needed")
