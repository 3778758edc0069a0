"""User pool: email sign-in, strong passwords, optional MFA, threat protection enforced."""

from __future__ import annotations

import pytest


def _pool(synth) -> dict:
    (pool,) = synth.resources("Identity", "AWS::Cognito::UserPool").values()
    return pool["Properties"]


def _client(synth) -> dict:
    (client,) = synth.resources("Identity", "AWS::Cognito::UserPoolClient").values()
    return client["Properties"]


def test_email_sign_in_with_verification_and_self_sign_up(synth):
    pool = _pool(synth)
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False


def test_password_policy_mfa_and_threat_protection(synth):
    pool = _pool(synth)
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(
        policy[k]
        for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert pool["UserPoolTier"] == "PLUS"
    assert pool["DeletionProtection"] == "ACTIVE"


def test_client_uses_srp_only_and_has_no_secret(synth):
    client = _client(synth)
    assert sorted(client["ExplicitAuthFlows"]) == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    assert client["GenerateSecret"] is False
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_the_hosted_ui_domain_exists_by_default_unique_per_account(synth):
    """Prefixes are global to a region: the default carries the deploying account's id."""
    (domain,) = synth.resources("Identity", "AWS::Cognito::UserPoolDomain").values()
    props = domain["Properties"]
    assert props["Domain"] == {"Fn::Join": ["-", ["style-login", {"Ref": "AWS::AccountId"}]]}
    assert props["UserPoolId"] == {
        "Ref": next(iter(synth.resources("Identity", "AWS::Cognito::UserPool")))
    }
    client = _client(synth)  # the hosted UI signs in with the code flow, back to the page
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"]
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid"]
    assert client["CallbackURLs"] == client["LogoutURLs"] == ["http://localhost:8000/"]
    outputs = synth.template_json("Identity")["Outputs"]
    assert "HostedUiBaseUrl" in outputs


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"cognito_domain_prefix": "Style_Login"}, "cognito_domain_prefix"),
        ({"cognito_domain_prefix": "my-cognito-login"}, "cognito_domain_prefix"),
        ({"cognito_domain_prefix": "-login"}, "cognito_domain_prefix"),
        ({"project_name": "amazonian"}, "project_name"),
    ],
)
def test_a_prefix_cognito_would_refuse_stops_the_synth(context, message):
    from stacks.settings import Settings

    with pytest.raises(ValueError, match=message):
        Settings(**context).validate()
    Settings(cognito_domain_prefix="style-test-login").validate()


def test_domain_and_password_auth_follow_the_context(synth_overridden):
    (domain,) = synth_overridden.resources("Identity", "AWS::Cognito::UserPoolDomain").values()
    assert domain["Properties"]["Domain"] == "style-test-login"
    client = _client(synth_overridden)
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["CallbackURLs"] == ["http://localhost:8000/"]


def test_outputs_for_clients(synth):
    outputs = synth.template_json("Identity")["Outputs"]
    assert {"UserPoolId", "UserPoolClientId"} <= set(outputs)


def test_tokens_are_short_lived_and_revocable(synth):
    """The authorizer accepts a token until it expires, even after a global sign-out: 15 min
    (the default of `token_validity_minutes`) instead of Cognito's hour."""
    client = _client(synth)
    units = client["TokenValidityUnits"]
    minutes = {"minutes": 1, "hours": 60, "days": 1440}
    for token in ("AccessToken", "IdToken"):
        assert client[f"{token}Validity"] * minutes[units[token]] == 15
    assert client["EnableTokenRevocation"] is True
