# netns_agents.sh: helpers for tests that run real qagents in host mode, each
# in its own network namespace on a bridge (sourced; POSIX sh).  The test
# sets P (namespace prefix), NODES (node names; "czar" gets the registry's
# admin socket), T (work directory), QAGENT and QSERVCTL, and creates the
# bridge namespace "$P-br" itself (its failure is the test's skip check).
#
#   netns_nodes SUBNET      one namespace per node on br0, SUBNET.1, .2, ...
#   start NAME CMDLINE      qagent in NAME's namespace (log in $T/NAME.log);
#                           $T/NAME.conf, when the test wrote one, is its
#                           qserv.conf (else none)
#   stop NAME               TERM, then wait for it
#   status NAME             GET /status of NAME's agent
#   nodes                   the registry's node list (qservctl nodes --json)
#   node_field NAME FIELD   a field of the registry's record for NAME
#   is_state NAME STATE     the registry's record for NAME is in STATE
#   wait_for SECONDS CMD... retries CMD every 0.2 s
#   netns_cleanup           kills the agents, deletes the namespaces

netns_nodes() {
	ip -n "$P-br" link add br0 type bridge
	ip -n "$P-br" link set br0 up
	_i=1
	for _n in $NODES; do
		ip netns add "$P-$_n"
		ip link add "$P$_i" type veth peer name eth0 netns "$P-$_n"
		ip link set "$P$_i" netns "$P-br"
		ip -n "$P-br" link set "$P$_i" master br0 up
		ip -n "$P-$_n" addr add "$1.$_i/24" dev eth0
		ip -n "$P-$_n" link set eth0 up
		ip -n "$P-$_n" link set lo up
		_i=$((_i + 1))
	done
}

start() {
	echo "$2" > "$T/$1.cmdline"
	_extra=
	[ "$1" = czar ] && _extra="--admin-socket $T/admin.sock"
	_conf=/dev/null
	[ -f "$T/$1.conf" ] && _conf=$T/$1.conf
	# shellcheck disable=SC2086
	ip netns exec "$P-$1" "$QAGENT" --host --data-dir "$T/$1" --cmdline "$T/$1.cmdline" \
		--conf "$_conf" --pidfile "$T/$1.agentpid" --status-port 9400 $_extra >> "$T/$1.log" 2>&1 &
	echo $! > "$T/$1.pid"
}
stop() { kill -TERM "$(cat "$T/$1.pid")" 2>/dev/null; wait "$(cat "$T/$1.pid")" 2>/dev/null; rm -f "$T/$1.pid"; }
status() { ip netns exec "$P-$1" curl -sf -m 3 http://127.0.0.1:9400/status; }
nodes() { "$QSERVCTL" nodes -s "$T/admin.sock" --json 2>/dev/null; }
node_field() { nodes | jq -r --arg n "$1" ".nodes[] | select(.name == \$n) | .$2"; }
is_state() { [ "$(node_field "$1" state)" = "$2" ]; }
wait_for() {
	_t=$1; shift
	_w=0
	while [ "$_w" -lt $((_t * 5)) ]; do
		"$@" && return 0
		sleep 0.2
		_w=$((_w + 1))
	done
	return 1
}
netns_cleanup() {
	for _n in $NODES; do
		[ -f "$T/$_n.pid" ] && kill -9 "$(cat "$T/$_n.pid")" 2>/dev/null
	done
	for _n in $NODES br; do ip netns del "$P-$_n" 2>/dev/null; done
}
