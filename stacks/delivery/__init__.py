from stacks.delivery.stack import DeliveryStack, GitHubDeployAccess

__all__ = ["DeliveryStack", "GitHubDeployAccess"]
