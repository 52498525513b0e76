#!/bin/sh
# A stand-in exec credential plugin for the kubeconfig tests: prints an
# ExecCredential; counts its runs in $PLUGIN_COUNT_FILE when set.  Modes
# for failures: fail and exit7 (a message on stderr, exit 1 or 7), garbage
# (not JSON), hang (a child that sleeps, its pid in $PLUGIN_PID_FILE).
[ -n "${PLUGIN_COUNT_FILE:-}" ] && echo run >>"$PLUGIN_COUNT_FILE"
case "$KUBERNETES_EXEC_INFO" in *'"kind":"ExecCredential"'*) ;; *) exit 3;; esac
case "$1" in
token) printf '{"apiVersion":"client.authentication.k8s.io/%s","kind":"ExecCredential","status":{"token":"exec-token-%s","expirationTimestamp":"%s"}}\n' "$2" "${PLUGIN_EXTRA:-x}" "${PLUGIN_EXPIRY:-2030-01-01T00:00:00Z}";;
cert) printf '{"apiVersion":"client.authentication.k8s.io/%s","kind":"ExecCredential","status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}}\n' "$2";;
exit7) printf '\nerror: the SSO session has expired\033[31m; run login\nsecond line\n' >&2; exit 7;;
garbage) echo "this is not JSON";;
hang) sleep 600 & echo $! >"$PLUGIN_PID_FILE"; wait;;
*) echo "no credentials for you" >&2; exit 1;;
esac
