# qcurl.sh: sourced by the tests that call the controller's and the
# workers' HTTPS APIs with curl.
#
#   qcurl CURL ARGUMENTS...
#
# The first argument that is an http(s)://HOST:PORT/... URL is sent as https:// to HOST, checked
# against the cluster CA $QSERV_CA_FILE and the certificate's CN (the node
# certificates name no host: curl --connect-to CN:PORT:HOST:PORT, so the
# name is checked too, never skipped), with "Authorization: Bearer
# $QSERV_AUTH_KEY" when that is set (QSERV_AUTH_KEY= qcurl ... sends none).
# The CN of each HOST:PORT is read once (openssl s_client) and remembered.
# qcurl_cert NAME sends $QCURL_CERT_DIR/NAME.pem/.key as the client
# certificate for the next qcurl calls (qcurl_cert "" stops).

QCURL_CERT=

qcurl_cert() { QCURL_CERT=$1; }

# _qcurl_cn HOST PORT: the CN of the server's certificate.
_qcurl_cn() {
	_qv=$(echo "_qcn_$1_$2" | tr -c 'A-Za-z0-9_\n' _)
	eval "_qcn=\${$_qv:-}"
	if [ -z "$_qcn" ]; then
		_qcn=$(openssl s_client -connect "$1:$2" -CAfile "$QSERV_CA_FILE" </dev/null 2>/dev/null |
			openssl x509 -noout -subject -nameopt multiline 2>/dev/null |
			sed -n 's/^ *commonName *= *//p')
		[ -n "$_qcn" ] && eval "$_qv=\$_qcn"
	fi
	echo "$_qcn"
}

qcurl() {
	_url=
	for _a in "$@"; do
		case $_a in http://*|https://*) _url=$_a; break ;; esac
	done
	_rest=${_url#*://}
	_hp=${_rest%%/*}
	_path=/${_rest#*/}
	[ "$_hp" = "$_rest" ] && _path=/
	_host=${_hp%:*}
	_port=${_hp##*:}
	_cn=$(_qcurl_cn "$_host" "$_port")
	[ -n "$_cn" ] || _cn=unknown-cn
	# the same arguments, the URL rewritten to the certificate's name
	_first=1
	for _a in "$@"; do
		[ $_first -eq 1 ] && set -- && _first=0
		case $_a in
		"$_url") set -- "$@" "https://$_cn:$_port$_path" ;;
		*) set -- "$@" "$_a" ;;
		esac
	done
	if [ -n "${QSERV_AUTH_KEY:-}" ]; then
		set -- "$@" -H "Authorization: Bearer $QSERV_AUTH_KEY"
	fi
	if [ -n "$QCURL_CERT" ]; then
		set -- "$@" --cert "$QCURL_CERT_DIR/$QCURL_CERT.pem" --key "$QCURL_CERT_DIR/$QCURL_CERT.key"
	fi
	curl --cacert "$QSERV_CA_FILE" --connect-to "$_cn:$_port:$_host:$_port" "$@"
}
