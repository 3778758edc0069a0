"""Cognito user pool (email sign-in), the web app client and the hosted-UI domain."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.nag import acknowledge
from stacks.settings import Settings
from stacks.shared import ProjectStack


class IdentityStack(ProjectStack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kw) -> None:
        super().__init__(scope, construct_id, **kw)
        self.user_pool = UserPool(self, "UserPool", settings=settings)
        self.client = self.user_pool.add_web_client(settings)
        self.domain = self.user_pool.add_domain(
            "HostedUiDomain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix(settings)),
        )
        cdk.CfnOutput(self, "HostedUiBaseUrl", value=self.domain.base_url())
        cdk.CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=self.client.user_pool_client_id)


def domain_prefix(settings: Settings) -> str:
    """The hosted UI's `https://PREFIX.auth.REGION.amazoncognito.com`. Prefixes are unique across
    every AWS account of a region: by default `{project}-login-{account id}` (resolved at deploy,
    so two accounts deploying the same app never collide); `cognito_domain_prefix` overrides."""
    if settings.cognito_domain_prefix:
        return settings.cognito_domain_prefix
    return cdk.Fn.join("-", [settings.hosted_ui_prefix_base, cdk.Aws.ACCOUNT_ID])


class UserPool(cognito.UserPool):
    """Email sign-in, strong passwords, optional TOTP, threat protection enforced."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(
            scope,
            construct_id,
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Threat protection ENFORCED (not AUDIT): the pool holds people's selfies, so risky
            # sign-ins and leaked passwords are blocked, not just logged. Needs the Plus plan.
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=settings.removal_policy == "retain",
            removal_policy=settings.cdk_removal_policy,
        )
        acknowledge(
            self,
            "AwsSolutions-COG2",
            "MFA is OPTIONAL by product decision (consumer sign-up); TOTP is offered and threat "
            "protection is ENFORCED to cover risky sign-ins.",
        )

    def add_web_client(self, settings: Settings) -> cognito.UserPoolClient:
        """`WebClient`: a browser app (no secret), SRP; OAuth code flow with the hosted UI."""
        return self.add_client(
            "WebClient",
            auth_flows=cognito.AuthFlow(
                user_srp=True,
                user_password=settings.cognito_user_password_auth,
            ),
            generate_secret=False,  # a browser app cannot keep a secret
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            # Short: a token outlives its user's global sign-out (see settings).
            access_token_validity=cdk.Duration.minutes(settings.token_validity_minutes),
            id_token_validity=cdk.Duration.minutes(settings.token_validity_minutes),
            refresh_token_validity=cdk.Duration.days(30),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=settings.callback_urls,
                logout_urls=settings.callback_urls,
            ),
        )
