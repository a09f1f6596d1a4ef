#!/bin/sh
# The application container of `npm run test:sensor` (test/sensor/sensor.ts): runs, as an unprivileged
# user in the test pod's shared pid namespace, what an attacked application would run, and writes what
# it did (the truth the sensor's report is compared with) to $TRUTH, one line per action:
#   proc <pid> <long|short> <lifetime s> <program>   a process of a known lifetime
#   conn <pid> <what>                                  a connection held $HOLD s by process <pid>
#   read <pid> <canonical path>                        a sensitive file held open $HOLD s
#   shortread <pid> <canonical path>                   a sensitive file read by `cat` (milliseconds)
# Inputs (environment): TRUTH LONG_S SHORT_S REPEAT HOLD META_IP META_PORT SVC_IP SVC_PORT UDP_PORT APP_IP APP_PORT NODE
#   TOKEN_EKS TOKEN_K8S AWS_CREDS (paths to open) and their canonical names TOKEN_EKS_C TOKEN_K8S_C, DROP_DIR.
set -u
log() { echo "$*" >> "$TRUTH"; }

# The application itself: a server the test connects to (an inbound connection).
"$NODE" -e "require('net').createServer((s) => s.on('error', () => {})).listen($APP_PORT, '$APP_IP')" &
SERVER=$!
log "server $! node"

# Processes of known lifetimes, interleaved, with a little space between starts.
i=0
while [ "$i" -lt "$REPEAT" ]; do
  for s in $LONG_S; do
    sleep "$s" &
    log "proc $! long $s sleep"
    sleep 0.03
  done
  for s in $SHORT_S; do
    sleep "$s" &
    log "proc $! short $s sleep"
    sleep 0.03
  done
  i=$((i + 1))
done

# What an intruder does, each held $HOLD seconds (at least twice the scan interval).
sleep "$HOLD" | sh -i > /dev/null 2>&1 &
log "proc $! long $HOLD dash"
curl -s -o /dev/null --connect-to "169.254.169.254:80:$META_IP:$META_PORT" http://169.254.169.254/latest/meta-data/iam/security-credentials/app-role &
log "proc $! long $HOLD curl"
log "conn $! metadata"
bash -c "exec 3<>/dev/tcp/$SVC_IP/$SVC_PORT; sleep $HOLD; :" &
log "proc $! long $HOLD bash"
log "conn $! tcp-service"
bash -c "exec 4<>/dev/udp/$SVC_IP/$UDP_PORT; sleep $HOLD; :" &
log "proc $! long $HOLD bash"
log "conn $! udp-service"
bash -c "sleep $HOLD; :" miner -o stratum+tcp://pool.supportxmr.com:3333 &
log "proc $! long $HOLD bash"
cp /bin/sleep "$DROP_DIR/.k"
"$DROP_DIR/.k" "$HOLD" &
log "proc $! long $HOLD .k"
# IMDSv2-style token requests that finish in milliseconds: too short for a scan, but they leave TIME_WAIT.
for n in 1 2 3; do
  curl -s -o /dev/null -X PUT --connect-to "169.254.169.254:80:$META_IP:$META_PORT" http://169.254.169.254/latest/api/token
done
tail -f "$TOKEN_EKS" > /dev/null &
TAILS=$!
log "proc $! long $HOLD tail"
log "read $! $TOKEN_EKS_C"
bash -c "exec 5< '$TOKEN_K8S'; sleep $HOLD; :" &
log "read $! $TOKEN_K8S_C"
tail -f "$AWS_CREDS" > /dev/null &
TAILS="$TAILS $!"
log "read $! $AWS_CREDS"
cat "$TOKEN_EKS" > /dev/null &
log "shortread $! $TOKEN_EKS_C"

sleep "$HOLD"
kill $TAILS $SERVER
wait
log "done"
