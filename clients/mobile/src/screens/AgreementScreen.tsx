// The terms the API requires before any styling: shown until agreed (GET/POST /agree).
import { useCallback, useEffect, useState } from "react";

import { type Api, describe } from "../api";
import { Body, Busy, Button, ErrorNote, Screen } from "../ui";

export function AgreementScreen({ api, onAgreed }: { api: Api; onAgreed: () => void }) {
  const [version, setVersion] = useState<string | null>(null);
  const [busy, setBusy] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setBusy(true);
    setError(null);
    try {
      const agreement = await api.style.getAgreement();
      if (agreement.agreed) onAgreed();
      else setVersion(agreement.termsVersion);
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  }, [api, onAgreed]);

  useEffect(() => {
    load();
  }, [load]);

  const agree = async () => {
    if (!version) return;
    setBusy(true);
    setError(null);
    try {
      await api.style.agree(version);
      onAgreed();
    } catch (err) {
      setError(describe(err));
      setBusy(false);
    }
  };

  return (
    <Screen title="Terms of use">
      {version ? (
        <>
          <Body>
            Your selfie is used only to make your styled portraits, and you can delete every photo
            and result at any time. Terms version {version}.
          </Body>
          <Button label="I agree" onPress={agree} disabled={busy} />
        </>
      ) : null}
      {busy ? <Busy label="Checking the terms…" /> : null}
      <ErrorNote message={error} />
      {error && !version ? <Button kind="secondary" label="Try again" onPress={load} /> : null}
    </Screen>
  );
}
