from stacks.monitoring.stack import AlertsStack, MonitoringStack

__all__ = ["AlertsStack", "MonitoringStack"]
