"""User pool: email sign-in, strong passwords, optional MFA, threat protection enforced."""

from __future__ import annotations


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
    assert "AllowedOAuthFlows" not in client  # no hosted UI unless a domain prefix is set
    assert not synth.resources("Identity", "AWS::Cognito::UserPoolDomain")


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
