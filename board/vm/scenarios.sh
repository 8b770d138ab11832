# shellcheck shell=bash
# board/vm/scenarios.sh — the virtual board's scenarios, sourced by board/vm/run-test (which defines
# boot, g, put, ensure_booted/installed/provisioned, install_bundle, wait_for, kv, fail, check, ...
# and the host's broker, observer and NTP responder). Each s_NAME runs in its own subshell with
# errexit; it passes by returning, fails through fail REASON (or any failing command), and records
# counts with kv. The scenarios share one board: each starts with ensure_* (which brings the board
# to the state it needs from wherever the previous scenario left it) and leaves behind only what
# the next one may rely on (the package installed, the device provisioned, pinpost.service
# running); fixtures it adds (drop-ins, probes, the line flipper) it removes.
# Commands for the guest are single-quoted on purpose (they expand there, not here: SC2016), and
# the variables it uses are run-test's (SC2154).
# Functions passed to wait_for look unreachable to shellcheck (SC2317).
# shellcheck disable=SC2016,SC2154,SC2317

# --------------------------------------------------------------------------- 1. install
s_install() {
    local state
    # a board that never had pinpost: a fresh one if this one has
    if board_up && g 'dpkg-query -W pinpost >/dev/null 2>&1'; then halt; fi
    ensure_booted
    kv "boot_s=$(tail -n1 "$work/boot-seconds")"
    install_deb "$deb1" > "$work/install.apt.log" 2>&1 || fail "apt-get install ./$(basename "$deb1") failed: $(tail -n 3 "$work/install.apt.log")"
    grep -q "not provisioned yet" "$work/install.apt.log" || fail "postinst did not say the board is not provisioned yet"
    check "pinpost.service is not enabled after install" g 'test "$(systemctl is-enabled pinpost)" = enabled'
    check "the package started the unprovisioned agent" g 'test "$(systemctl show -p ActiveState --value pinpost)" = inactive'
    # user, group, folders and device node as the package promises
    check "user pinpost is not in group gpio" g 'id -nG pinpost | grep -qw gpio'
    check "/etc/pinpost is not 0750 root:pinpost" g 'test "$(stat -c "%a %U:%G" /etc/pinpost)" = "750 root:pinpost"'
    check "/var/lib/pinpost is not 0700 pinpost:pinpost" g 'test "$(stat -c "%a %U:%G" /var/lib/pinpost)" = "700 pinpost:pinpost"'
    check "/dev/$(g board-gpio chip) is not 0660 root:gpio (udev rule)" g 'test "$(stat -c "%a %U:%G" /dev/$(board-gpio chip))" = "660 root:gpio"'
    # skipped, not failed: by hand, and at the next boot
    g 'systemctl start pinpost' || fail "systemctl start pinpost failed on an unprovisioned board"
    state=$(props ConditionResult ActiveState Result)
    [[ "$state" == "no inactive success" ]] || fail "start on an unprovisioned board: ConditionResult ActiveState Result = '$state', expected 'no inactive success'"
    g 'systemctl reboot' || true
    wait_poweroff
    boot
    kv "reboot_s=$boot_seconds"
    check "after a reboot the unit is failed" g '! systemctl is-failed --quiet pinpost'
    check "after a reboot the journal does not say the unit was skipped by its condition" \
        g 'journalctl -b -u pinpost --no-pager | grep -q "was skipped because of an unmet condition check (ConditionPathExists=/etc/pinpost/pinpost.toml)"'
    kv "skipped=yes" "enabled=yes"
}

# --------------------------------------------------------------------------- 2. factory to first reading
s_first_reading() {
    local id=board-1 bundle chip before after status exposure flips=10 state mark summary
    ensure_installed
    # from the factory: a board that carries another identity gives it up first
    [[ -z "$(provisioned_id)" ]] || decommission > "$work/first.decommission.log" 2>&1
    mark=$(lines "$observer_log")
    bundle=$(make_bundle "$id")
    grep -qx 'backend = "libgpiod"' "$bundle/pinpost.toml" \
        || fail "the factory bundle does not select the libgpiod backend: $(grep -A1 '^\[gpio\]' "$bundle/pinpost.toml" | paste -sd' ') (FINDINGS.md F1)"
    install_bundle "$bundle" > "$work/first.bundle.log" 2>&1 || fail "pinpost-install-bundle refused the factory bundle: $(tail -n 2 "$work/first.bundle.log")"
    echo "$id" > "$work/board.device"
    start_agent || fail "pinpost.service did not become active: $(journal -n 5 | tr '\n' ' ')"
    wait_for 60 "the first readings at the broker" ge 2 count_readings "$id" "" "$mark" \
        || fail "no readings reached the broker: $(journal -n 5 | tr '\n' ' ')"
    chip=$(g board-gpio chip)
    before=$(count_readings "$id" door "$mark")
    g "for i in \$(seq 1 $flips); do board-gpio set 0 \$((i % 2)); sleep 0.3; done"
    wait_for 60 "$flips door readings" ge $((before + flips)) count_readings "$id" door "$mark" \
        || fail "only $(( $(count_readings "$id" door "$mark") - before )) of $flips flips of $chip line 0 reached the broker"
    after=$(grep " devices/$id/sensors/door " "$observer_log" | tail -n "$flips" | grep -o '"value":[01],"edge":"[a-z]*"' | paste -sd' ')
    [[ "$after" == *'"value":1,"edge":"rising" "value":0,"edge":"falling"'* ]] || fail "door readings do not follow the flips: $after"
    summary=$(readings_of summary "$observer_log" --device "$id" --from-line "$mark") || fail "seq not contiguous: $summary"
    kv "$(head -n1 <<< "$summary")"
    state=$(g 'systemctl show -p ActiveState,SubState,StatusText,NRestarts pinpost')
    status=$(sed -n 's/^StatusText=//p' <<< "$state")
    [[ -n "$status" ]] || fail "systemctl show has no StatusText: $state"
    grep -q '^SubState=running' <<< "$state" || fail "not running: $state"
    echo "StatusText: $status"
    exposure=$(g 'systemd-analyze security pinpost.service 2>/dev/null | sed -n "s/.*Overall exposure level for pinpost.service: \([0-9.]*\).*/\1/p"')
    [[ -n "$exposure" ]] || fail "systemd-analyze security printed no exposure level"
    kv "exposure=$exposure" "status_text=\"$status\""
    python3 -c "import sys; sys.exit(0 if float('$exposure') <= 2.0 else 1)" || fail "systemd-analyze security (online) = $exposure > 2.0"
}

# --------------------------------------------------------------------------- 3. the sandbox
s_sandbox() {
    local id pid status probe line mark since bad
    ensure_provisioned
    id=$(board_device)
    wait_for 60 "readings from the agent (it holds its GPIO lines)" ge 1 count_readings "$id" door \
        || fail "no door reading: the agent could not use its gpiochip: $(journal -p warning -n 5 | tr '\n' ' ')"
    pid=$(active_pid)
    status=$(g "cat /proc/$pid/status")
    grep -qP '^NoNewPrivs:\t1$' <<< "$status" || fail "NoNewPrivs is not 1: $(grep NoNewPrivs <<< "$status")"
    grep -qP '^CapEff:\t0000000000000000$' <<< "$status" || fail "effective capabilities not empty: $(grep CapEff <<< "$status")"
    grep -qP '^Seccomp:\t2$' <<< "$status" || fail "no seccomp filter: $(grep Seccomp <<< "$status")"
    kv "NoNewPrivs=1" "CapEff=0" "Seccomp=2"
    # The probe runs as ExecStartPre= of pinpost.service itself: exactly the unit's properties.
    put "$here/board-probe" /usr/local/sbin/board-probe
    g 'chmod 0755 /usr/local/sbin/board-probe && rm -f /dev/board-probe-kmsg && mknod -m 0666 /dev/board-probe-kmsg c 1 11'
    mark=$(lines "$observer_log")
    since=$(g 'date +%s')
    g 'mkdir -p /etc/systemd/system/pinpost.service.d && printf "[Service]\nExecStartPre=/usr/local/sbin/board-probe\n" > /etc/systemd/system/pinpost.service.d/probe.conf && systemctl daemon-reload && systemctl reset-failed pinpost && systemctl restart pinpost'
    wait_for 90 "pinpost.service to be active after the probe" is_active || fail "pinpost.service did not start after the probe: $(journal -n 8 | tr '\n' ' ')"
    # after the restart under the same unit the agent opens its chip again: its first reading is
    # the door line's initial state
    wait_for 60 "a door reading after the restart" ge 1 count_readings "$id" door "$mark" \
        || fail "no door reading after the restart under the probe's unit"
    probe=$(g "journalctl -u pinpost --since @$since --no-pager -o cat | grep '^PROBE '")
    echo "$probe"
    g 'rm -rf /etc/systemd/system/pinpost.service.d /usr/local/sbin/board-probe /dev/board-probe-kmsg && systemctl daemon-reload'
    [[ -n "$probe" ]] || fail "the probe printed nothing"
    bad=$(grep -v ' ok$' <<< "$probe" || true)
    line=$(grep -c '^PROBE ' <<< "$probe")
    kv "probes=$line" "probe_failures=$(grep -c . <<< "$bad" || true)"
    [[ -z "$bad" ]] || fail "probe: $(paste -sd';' <<< "$bad")"
    [[ $line -ge 19 ]] || fail "only $line probe lines, expected 19"
}

# --------------------------------------------------------------------------- 4. watchdog and restarts
s_watchdog() {
    local id pid1 pid2 last summary restarts state all err mark keymode
    ensure_provisioned
    id=$(board_device)
    mark=$(lines "$observer_log")
    g 'mkdir -p /etc/systemd/system/pinpost.service.d && printf "[Service]\nWatchdogSec=5s\n" > /etc/systemd/system/pinpost.service.d/watchdog.conf && systemctl daemon-reload'
    # WATCHDOG_USEC reaches the agent when it starts
    g 'systemctl reset-failed pinpost; systemctl restart pinpost && systemctl start board-flip'
    wait_for 90 "pinpost.service to be active" is_active || fail "pinpost.service did not become active"
    wait_for 60 "readings" ge 5 count_readings "$id" door "$mark" || fail "no readings before the watchdog test"
    pid1=$(active_pid)
    g "kill -STOP $pid1"
    kv "sigstop_pid=$pid1"
    wait_for 60 "systemd's watchdog to kill the stopped agent" g "journalctl -u pinpost -b --no-pager | grep -q 'Watchdog timeout'" \
        || fail "systemd did not kill the stopped agent (no 'Watchdog timeout' in the journal)"
    wait_for 90 "the restarted agent" restarted_from "$pid1" || fail "the agent was not restarted after the watchdog kill"
    pid2=$(active_pid)
    g 'journalctl -u pinpost -b --no-pager -o short-precise | grep -E "Watchdog timeout|Main process exited|Scheduled restart|Started" | tail -n 6'
    last=$(readings_of last-seq "$observer_log" --device "$id")
    wait_for 60 "readings after the restart" seq_above "$id" $((last + 5)) || fail "no readings after the restart"
    restarts=$(g 'systemctl show -p NRestarts --value pinpost')
    kv "watchdog_restart_pid=$pid2" "NRestarts=$restarts"
    # --- exit 78: a misspelt key; exit 77: a key readable by others. Neither is restarted.
    g 'systemctl stop board-flip pinpost'
    # the seq stayed contiguous through the watchdog restart (a crash in the same boot loses nothing)
    summary=$(readings_of summary "$observer_log" --device "$id" --from-line "$mark") || fail "seq after the watchdog restart: $summary"
    kv "$(head -n1 <<< "$summary")"
    keymode=$(g 'stat -c %a /etc/pinpost/device.key')
    g 'cp /etc/pinpost/pinpost.toml /root/pinpost.toml.good && sed -i "s/^require_sync = /require_synk = /" /etc/pinpost/pinpost.toml'
    g 'systemctl reset-failed pinpost; date +%s > /root/mark78; systemctl start pinpost' || true
    wait_for 60 "the agent to exit on the broken config" g 'systemctl show -p ActiveState --value pinpost | grep -qx failed' \
        || fail "broken config: the unit is not 'failed': $(props ActiveState SubState ExecMainStatus)"
    state=$(g 'systemctl show -p SubState -p ExecMainStatus -p NRestarts -p Result pinpost | paste -sd" "')
    kv "config_state=\"$state\""
    grep -q 'ExecMainStatus=78' <<< "$state" || fail "broken config: exit status is not 78: $state"
    grep -q 'SubState=failed' <<< "$state" || fail "broken config: systemd schedules a restart: $state"
    # The message must name the file, the key and the fix, at priority err or higher.
    all=$(g 'journalctl -u pinpost --since "@$(cat /root/mark78)" --no-pager -o cat _PID="$(systemctl show -p ExecMainPID --value pinpost)"' || true)
    err=$(g 'journalctl -u pinpost --since "@$(cat /root/mark78)" -p err --no-pager -o cat')
    echo "exit 78, the agent's own lines (any priority): $all"
    echo "exit 78, priority err or higher: $err"
    grep -q '/etc/pinpost/pinpost.toml' <<< "$all" || fail "exit 78: the journal does not name /etc/pinpost/pinpost.toml: ${all:-<nothing>}"
    grep -q 'require_synk' <<< "$all" || fail "exit 78: the journal does not name the key require_synk: $all"
    grep -q 'fix:' <<< "$all" || fail "exit 78: the journal does not give the fix: $all"
    grep -q 'require_synk' <<< "$err" \
        || fail "exit 78: the message reaches the journal below priority err (FINDINGS.md F3): $(g 'journalctl -u pinpost --since "@$(cat /root/mark78)" --no-pager -o json | grep require_synk | grep -o "\"PRIORITY\":\"[0-9]\"" | head -n1')"
    g 'cp /root/pinpost.toml.good /etc/pinpost/pinpost.toml && chmod 0644 /etc/pinpost/device.key'
    g 'systemctl reset-failed pinpost; date +%s > /root/mark77; systemctl start pinpost' || true
    wait_for 60 "the agent to exit on the open key" g 'systemctl show -p ActiveState --value pinpost | grep -qx failed' \
        || fail "key 0644: the unit is not 'failed': $(props ActiveState SubState ExecMainStatus)"
    state=$(g 'systemctl show -p SubState -p ExecMainStatus -p NRestarts -p Result pinpost | paste -sd" "')
    kv "key_state=\"$state\""
    grep -q 'ExecMainStatus=77' <<< "$state" || fail "key 0644: exit status is not 77: $state"
    grep -q 'SubState=failed' <<< "$state" || fail "key 0644: systemd schedules a restart: $state"
    all=$(g 'journalctl -u pinpost --since "@$(cat /root/mark77)" --no-pager -o cat _PID="$(systemctl show -p ExecMainPID --value pinpost)"' || true)
    err=$(g 'journalctl -u pinpost --since "@$(cat /root/mark77)" -p err --no-pager -o cat')
    echo "exit 77, the agent's own lines (any priority): $all"
    echo "exit 77, priority err or higher: $err"
    grep -q '/etc/pinpost/device.key' <<< "$all" || fail "exit 77: the journal does not name /etc/pinpost/device.key: ${all:-<nothing>}"
    grep -q 'chmod' <<< "$all" || fail "exit 77: the journal does not give the fix (chmod): $all"
    grep -q '/etc/pinpost/device.key' <<< "$err" \
        || fail "exit 77: the message reaches the journal below priority err (FINDINGS.md F3)"
    kv "err_priority=yes"
    # leave the board as found: the key's mode, no drop-in, the agent running
    g "chmod $keymode /etc/pinpost/device.key && rm -rf /etc/systemd/system/pinpost.service.d && systemctl daemon-reload"
    start_agent || fail "the agent did not start again with the key's mode restored"
}

# --------------------------------------------------------------------------- 5. clock
s_clock() {
    local id past year conn_before first_answer first_conn delay mark ntp_mark said
    ensure_provisioned
    id=$(board_device)
    # The next boot must find no trace of a synchronized clock: timesyncd's clock file holds the
    # time of its last sync (it moves the clock forward to it at start).
    g 'systemctl stop systemd-timesyncd; rm -f /var/lib/systemd/timesync/clock; sync'
    power_cut
    rm -f "$work/board.cuts" "$work/ntp.gate"
    past="2021-01-01T00:00:00"
    mark=$(lines "$broker_log")
    ntp_mark=$(lines "$work/ntp.log")
    boot --rtc "$past"
    kv "boot_s=$boot_seconds" "rtc=$past"
    # systemd moves a clock that is earlier than its own build time up to that time (TIME_EPOCH),
    # so "far in the past" means: before systemd's build, months before the certificates' notBefore.
    year=$(g 'date -u +%s')
    kv "guest_clock_at_boot=$(date -u -d "@$year" +%FT%TZ)"
    [[ $year -lt $(( $(date +%s) - 86400 )) ]] || fail "the guest clock is not in the past: $(g date -u)"
    check "the clock is synchronized at boot" g 'test "$(timedatectl show -p NTPSynchronized --value)" = no'
    # Below the floor (binary build time, certificates' notBefore) the agent refuses whatever the
    # sync state; above it, it waits for synchronization. Either way it must say so.
    wait_for 120 "the agent to wait for the clock" g 'journalctl -u pinpost -b --no-pager | grep -qE "waiting for a synchronized clock|not connecting: the wall clock"' \
        || fail "the agent did not say it waits for the clock: $(journal -b -n 5 | tr '\n' ' ')"
    said=$(g 'journalctl -u pinpost -b --no-pager -o cat | grep -m1 -oE "waiting for a synchronized clock|not connecting: the wall clock reads [^,;]*"')
    kv "agent_said=\"$said\""
    # While the agent waits for the clock the boot is finished (READY=1 comes before the clock
    # gate), so nothing ordered after multi-user.target waits for NTP.
    kv "system_state_while_waiting=${boot_state:-starting}" "pinpost_while_waiting=$(props ActiveState SubState | tr ' ' /)" \
        "status_text_while_waiting=\"$(props StatusText)\""
    [[ "$boot_state" == running ]] \
        || fail "while the agent waits for the clock the boot does not finish: systemctl is-system-running says '${boot_state:-starting}' (FINDINGS.md F5)"
    # timesyncd asks at least twice (ConnectionRetrySec=5) while the responder drops: the window
    wait_for 120 "two NTP requests dropped" ge 2 count_after "$work/ntp.log" "$ntp_mark" '^dropped' \
        || fail "timesyncd did not reach the NTP responder through the relay"
    conn_before=$(tail -n +"$((mark + 1))" "$broker_log" | grep -c "New connection from" || true)
    kv "tls_connections_while_unsynced=$conn_before"
    [[ $conn_before -eq 0 ]] || fail "$conn_before connections reached the broker before the clock was synchronized"
    touch "$work/ntp.gate"
    wait_for 120 "the NTP responder to answer" ge 1 count_after "$work/ntp.log" "$ntp_mark" '^answered' || fail "timesyncd never asked again"
    first_answer=$(awk -v m="$ntp_mark" 'NR > m && $1 == "answered" {print $2; exit}' "$work/ntp.log")
    wait_for 120 "timesyncd to synchronize" g 'test "$(timedatectl show -p NTPSynchronized --value)" = yes' || fail "timesyncd did not synchronize"
    wait_for 120 "the agent to connect" ge 1 count_after "$broker_log" "$mark" "as $id " \
        || fail "the agent did not connect after the clock was synchronized: $(journal -b -n 5 | tr '\n' ' ')"
    first_conn=$(awk -F: -v m="$mark" 'NR > m && /New connection from/ {print $1; exit}' "$broker_log")
    delay=$(python3 -c "print(f'{$first_conn - $first_answer:.1f}')")
    kv "first_ntp_answer=$first_answer" "first_broker_connection=$first_conn" "connect_after_sync_s=$delay"
    # Mosquitto logs whole seconds: a connection in the same second as the first answer is after it
    python3 -c "import sys; sys.exit(0 if $first_conn + 1 >= $first_answer else 1)" \
        || fail "a connection reached the broker ($first_conn) before the first NTP answer ($first_answer)"
    g 'journalctl -u pinpost -b --no-pager -o short-iso | grep -iE "clock|connected" | head -n 8'
}

# --------------------------------------------------------------------------- 6. power cuts
# power_run POLICY: a device of its own (board-power-POLICY) with spool.fsync = POLICY publishes
# while the board is cut 5 times at random moments; writes the analysis to $work/power-POLICY.*
power_run() {
    local policy="$1" id="board-power-$1" i last delay analysis reason="" stop_at
    ensure_provisioned "$id"
    g "sed -i '/^\\[spool\\]/a fsync = \"$policy\"' /etc/pinpost/pinpost.toml && grep -A2 '^\\[spool\\]' /etc/pinpost/pinpost.toml"
    # the flipper starts at every boot after a cut, like the agent (board-flip has no [Install])
    g 'ln -sf /etc/systemd/system/board-flip.service /etc/systemd/system/multi-user.target.wants/board-flip.service && systemctl daemon-reload && systemctl reset-failed pinpost && systemctl restart pinpost && systemctl start board-flip.service'
    rm -f "$work/board.cuts"
    wait_for 90 "readings" ge 5 count_readings "$id" door || fail "$policy: no readings before the cuts"
    for i in 1 2 3 4 5; do
        last=$(readings_of last-seq "$observer_log" --device "$id")
        wait_for 120 "readings before cut $i" seq_above "$id" "$((last + 3))" || fail "$policy: readings stopped before cut $i"
        delay=$(python3 -c 'import random; print(f"{random.uniform(0.2, 3.0):.2f}")')
        sleep "$delay"   # picks the moment of the cut; no outcome depends on it
        power_cut
        echo "cut $i after ${delay}s; last seq seen before the cut $(readings_of last-seq "$observer_log" --device "$id")"
        boot
        last=$(readings_of last-seq "$observer_log" --device "$id")
        wait_for 180 "the agent to publish again after cut $i" seq_above "$id" "$last" \
            || fail "$policy: the agent did not publish again after cut $i (no operator action taken): $(journal -b -n 8 | tr '\n' ' ')"
        g "journalctl -u pinpost -b --no-pager -o cat | grep -iE 'recover|spool|torn|corrupt|skipped' | head -n 5" || true
    done
    # drain: stop the readings, then wait for a status with an empty spool
    g 'systemctl stop board-flip.service'
    stop_at=$(date +%s)
    wait_for 120 "the spool to drain" python3 -c "
import json, sys
for line in reversed(open('$observer_log').read().splitlines()):
    parts = line.split(' ', 3)
    if len(parts) == 4 and parts[2] == 'devices/$id/status' and parts[1] == '0' and float(parts[0]) > $stop_at + 1:
        sys.exit(0 if json.loads(parts[3]).get('spool_depth') == 0 else 1)
sys.exit(1)" || reason="the spool did not drain after the cuts; "
    cp "$work/board.cuts" "$work/power-$policy.cuts"
    analysis=$(readings_of power "$observer_log" --device "$id" --cuts "$work/power-$policy.cuts" --fsync "$policy" --slack 1.0) \
        || reason+="$(grep '^reason:' <<< "$analysis" | head -n 3 | sed 's/^reason: //' | paste -sd';')"
    echo "$analysis"
    head -n1 <<< "$analysis" > "$work/power-$policy.counts"
    echo "$reason" > "$work/power-$policy.reason"
}
# first_reading_after ID LINE: the payload of the device's first reading after observer line LINE
first_reading_after() { tail -n +"$(($2 + 1))" "$observer_log" | grep -m1 " devices/$1/sensors/" | cut -d' ' -f4-; }
field() { python3 -c "import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2]); print(json.dumps(v) if isinstance(v, (dict, list)) or v is None else v)" "$1" "$2"; }
# spool_reset WHAT COMMAND: stop the agent, damage its state with COMMAND on the board, start it;
# prints "last_seq stream_before first_seq_after stream_after recovery"
spool_reset() {
    local id="$1" command="$2" last stream mark first status_line
    g 'systemctl stop pinpost'
    last=$(readings_of last-seq "$observer_log" --device "$id")
    stream=$(field "$(grep " devices/$id/sensors/" "$observer_log" | tail -n1 | cut -d' ' -f4-)" stream)
    mark=$(lines "$observer_log")
    g "$command && systemctl reset-failed pinpost && systemctl start pinpost"
    wait_for 90 "readings after the reset" ge 1 count_readings "$id" "" "$mark" || return 1
    first=$(first_reading_after "$id" "$mark")
    wait_for 60 "a status after the reset" ge 1 count_after "$observer_log" "$mark" "^[0-9.]* 0 devices/$id/status {\"state\":\"online\""
    status_line=$(tail -n +"$((mark + 1))" "$observer_log" | grep -m1 "^[0-9.]* 0 devices/$id/status {\"state\":\"online\"" | cut -d' ' -f4-)
    echo "$last $stream $(field "$first" seq) $(field "$first" stream) $(field "$status_line" recovery | tr -d ' ')"
}
s_power_cuts() {
    local reasons="" id=board-power-always out last stream seq_after stream_after recovery
    power_run always
    [[ -z "$(cat "$work/power-always.reason")" ]] || reasons+="always: $(cat "$work/power-always.reason") "
    kv "fsync_always:" "$(cat "$work/power-always.counts")"
    # --- state lost while the board runs. The ack file emptied and the delivered segments gone (as
    # after every reading was delivered): numbering goes on in the same stream, no seq used twice.
    g 'systemctl start board-flip.service'
    out=$(spool_reset "$id" 'truncate -s 0 /var/lib/pinpost/spool/ack && rm -f /var/lib/pinpost/spool/*.seg') \
        || fail "no readings after emptying spool/ack and removing the segments"
    read -r last stream seq_after stream_after recovery <<< "$out"
    echo "ack lost: last seq $last in stream $stream, then seq $seq_after in stream $stream_after, recovery $recovery"
    kv "ack_lost: last_seq_before=$last first_seq_after=$seq_after same_stream=$([[ $stream == "$stream_after" ]] && echo yes || echo no) recovery_ack_state_damaged=$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); print((r or {}).get('ack_state_damaged'))" "$recovery")"
    [[ $seq_after -gt $last && "$stream" == "$stream_after" ]] \
        || reasons+="ack lost: after seq $last (stream $stream) the agent published seq $seq_after in stream $stream_after; "
    # every state file lost: a new stream, numbered from 1
    out=$(spool_reset "$id" 'rm -rf /var/lib/pinpost/spool') || fail "no readings after removing the whole spool"
    read -r last stream seq_after stream_after recovery <<< "$out"
    echo "all state lost: last seq $last in stream $stream, then seq $seq_after in stream $stream_after, recovery $recovery"
    kv "all_lost: first_seq_after=$seq_after new_stream=$([[ $stream != "$stream_after" ]] && echo yes || echo no)"
    [[ "$stream" != "$stream_after" && "$stream_after" =~ ^[0-9a-f]{16}$ ]] \
        || reasons+="all state lost: the agent numbered again from seq $seq_after in the same stream $stream_after; "
    g 'systemctl stop board-flip.service'
    power_run 1s
    [[ -z "$(cat "$work/power-1s.reason")" ]] || reasons+="1s: $(cat "$work/power-1s.reason")"
    kv "fsync_1s:" "$(cat "$work/power-1s.counts")"
    g 'rm -f /etc/systemd/system/multi-user.target.wants/board-flip.service && systemctl daemon-reload'
    [[ -z "$reasons" ]] || fail "$reasons"
}

# --------------------------------------------------------------------------- 7. upgrade and removal
s_upgrade() {
    local id pid1 pid2 last summary removed leftover expected mark
    ensure_provisioned
    id=$(board_device)
    mark=$(lines "$observer_log")
    g 'printf "\n# administrator: keep this line\n" >> /etc/pinpost/pinpost.toml && printf "\n# administrator: example edited\n" >> /etc/pinpost/pinpost.toml.example'
    g 'systemctl start board-flip'
    wait_for 60 "readings" ge 5 count_readings "$id" door "$mark" || fail "no readings before the upgrade"
    pid1=$(active_pid)
    g 'ls -l /var/lib/pinpost/spool' > "$work/upgrade.spool.before"
    install_deb "$deb2" > "$work/upgrade.apt.log" 2>&1 || fail "upgrade to $version2 failed: $(tail -n 3 "$work/upgrade.apt.log")"
    check "dpkg does not report $version2" g "test \"\$(dpkg-query -W -f='\${Version}' pinpost)\" = '$version2'"
    wait_for 60 "the restarted agent" restarted_from "$pid1" || fail "the upgrade did not restart the running agent (pid still $pid1 or inactive)"
    pid2=$(active_pid)
    check "the administrator's edit of pinpost.toml is gone" g 'grep -q "administrator: keep this line" /etc/pinpost/pinpost.toml'
    check "the administrator's edit of pinpost.toml.example (conffile) is gone" g 'grep -q "administrator: example edited" /etc/pinpost/pinpost.toml.example'
    check "the spool's ack, seq or session file is gone after the upgrade" g 'test -e /var/lib/pinpost/spool/ack && test -e /var/lib/pinpost/spool/seq && test -e /var/lib/pinpost/spool/session'
    last=$(readings_of last-seq "$observer_log" --device "$id")
    wait_for 60 "readings after the upgrade" seq_above "$id" $((last + 5)) || fail "no readings after the upgrade"
    g 'systemctl stop board-flip pinpost'
    summary=$(readings_of summary "$observer_log" --device "$id" --from-line "$mark") || fail "readings lost across the upgrade: $summary"
    kv "from=$version1" "to=$version2" "pid_before=$pid1" "pid_after=$pid2" "$(head -n1 <<< "$summary")"
    # --- decommission, then purge: what is left must be what the README says, and nothing else
    g 'pinpost decommission --config /etc/pinpost/pinpost.toml --yes' > "$work/upgrade.decommission.log" 2>&1 \
        || fail "pinpost decommission failed: $(tail -n 3 "$work/upgrade.decommission.log")"
    g 'DEBIAN_FRONTEND=noninteractive apt-get purge -y pinpost' > "$work/upgrade.purge.log" 2>&1 || fail "apt-get purge failed"
    rm -f "$work/board.device"
    snapshot > "$work/upgrade.after"
    leftover=$(comm -13 "$work/board.before" "$work/upgrade.after" | paste -sd' ')
    removed=$(comm -23 "$work/board.before" "$work/upgrade.after" | paste -sd' ')
    expected="/etc/pinpost /etc/pinpost/bundle.manifest /etc/pinpost/ca.crt /etc/pinpost/device.crt"
    echo "left after decommission + purge: $leftover"
    kv "left=\"$leftover\""
    [[ -z "$removed" ]] || fail "purge removed files that were there before the install: $removed"
    [[ "$leftover" == "$expected" ]] || fail "after decommission and purge the board holds '$leftover', the README says '$expected'"
    check "purge removed the pinpost user or the gpio group (the README says they stay)" g 'getent passwd pinpost >/dev/null && getent group gpio >/dev/null'
    check "a unit file or enablement link of pinpost is left" g '! systemctl cat pinpost.service >/dev/null 2>&1 && ! ls /etc/systemd/system/*.wants/pinpost.service 2>/dev/null'
}

# --------------------------------------------------------------------------- 8. key in a TPM
s_tpm() {
    local id=board-tpm bundle out handle=0x81000001 files mark started connected_at diag
    ensure_installed
    [[ -z "$(provisioned_id)" ]] || decommission > "$work/tpm.decommission.log" 2>&1
    check "no /dev/tpmrm0 in the guest" g 'test -c /dev/tpmrm0'
    # the key is made inside the TPM and made persistent; no file ever holds it
    g "set -e; cd /root; tpm2_createprimary -Q -C o -g sha256 -G ecc -c primary.ctx
       tpm2_create -Q -C primary.ctx -G ecc256:ecdsa-sha256 -u key.pub -r key.priv
       tpm2_load -Q -C primary.ctx -u key.pub -r key.priv -c key.ctx
       tpm2_evictcontrol -Q -C o -c key.ctx $handle
       rm -f primary.ctx key.ctx key.pub key.priv
       openssl req -provider tpm2 -provider default -propquery '?provider=tpm2' -new -key handle:$handle -subj /CN=$id -out /root/$id.csr" \
        > "$work/tpm.key.log" 2>&1 || fail "making the key in the TPM failed: $(tail -n 3 "$work/tpm.key.log")"
    g "cat /root/$id.csr" > "$work/$id.csr"
    bundle=$(make_bundle "$id" --csr "$work/$id.csr" --key-ref "handle:$handle") \
        || fail "pinpost-factory device --csr --key-ref failed: $(tail -n 3 "$work/pki.log")"
    kv "bundle_key_file=$(sed -n 's/^key_file = //p' "$bundle/pinpost.toml")"
    out=$(install_bundle "$bundle" 2>&1) || fail "pinpost install-bundle refused the TPM bundle: ${out##*$'\n'} (FINDINGS.md F2)"
    echo "installer: $out"
    check "the installed config does not name the TPM key" g "grep -qx 'key_file = \"handle:$handle\"' /etc/pinpost/pinpost.toml"
    echo "$id" > "$work/board.device"
    g 'install -D -m 0644 /usr/share/doc/pinpost/examples/pinpost-tpm.conf /etc/systemd/system/pinpost.service.d/tpm.conf && systemctl daemon-reload' \
        || fail "the package does not ship the TPM drop-in /usr/share/doc/pinpost/examples/pinpost-tpm.conf"
    mark=$(lines "$broker_log")
    started=$(date +%s.%N)
    g 'systemctl reset-failed pinpost; systemctl start pinpost'
    # connected, or two failed attempts in the journal (no need to wait out the bound)
    tpm_outcome() { count_after "$broker_log" "$mark" "as $id " | grep -qv '^0$' || [[ $(g 'journalctl -u pinpost -b --no-pager -o cat | grep -c "connection failed"') -ge 2 ]]; }
    wait_for 120 "the agent to connect with the TPM key, or to fail twice" tpm_outcome || true
    if [[ $(count_after "$broker_log" "$mark" "as $id ") -eq 0 ]]; then
        # Diagnosis outside the sandbox: OpenSSL's own client with the same key, through each way to
        # the TPM (the resource manager daemon, the kernel's resource manager).
        diag=$(g "systemctl stop pinpost
            for tcti in tabrmd:bus_name=com.intel.tss2.Tabrmd device:/dev/tpmrm0; do
                echo \"--- openssl s_client -provider tpm2 -provider default -propquery ?provider=tpm2, TCTI \$tcti\"
                TPM2OPENSSL_TCTI=\$tcti timeout 120 openssl s_client -connect mqtt.board.test:8883 -provider tpm2 -provider default -propquery '?provider=tpm2' \
                    -cert /etc/pinpost/device.crt -key handle:$handle -CAfile /etc/pinpost/ca.crt -verify_return_error -brief < /dev/null > /root/s_client.out 2>&1
                grep -iE 'CONNECTION ESTABLISHED|error|missing|verification' /root/s_client.out | head -n 4
            done" 2>&1)
        echo "$diag"
        printf '%s\n' "$diag" > "$work/tpm.diagnosis"
        fail "the agent did not connect with the TPM key under the sandbox: $(journal -p warning -n 2 | tail -n1 | cut -c1-300) (diagnosis: $(grep -A2 -e '---' <<< "$diag" | paste -sd' ' | cut -c1-600))"
    fi
    connected_at=$(awk -F: -v m="$mark" -v id="$id" 'NR > m && index($0, "as " id " ") {print $1; exit}' "$broker_log")
    kv "connect_after_start_s=$(python3 -c "print(f'{$connected_at - $started:.1f}')")"
    wait_for 60 "readings signed through the TPM session" ge 2 count_readings "$id" || fail "no readings with the TPM key"
    check "pinpost.service is not active with the TPM key" is_active
    files=$(g 'grep -rlE "BEGIN (EC |ENCRYPTED |)PRIVATE KEY" /etc /root /var/lib/pinpost /home 2>/dev/null' || true)
    kv "private_key_files=$(grep -c . <<< "$files" || true)" "tls_key=handle:$handle"
    [[ -z "$files" ]] || fail "a private key file exists on the board: $files"
    # The kernel's resource manager instead of tpm2-abrmd (README "Keys in hardware" says why the
    # drop-in uses the daemon): recorded, not judged.
    g "TPM2OPENSSL_TCTI=device:/dev/tpmrm0 timeout 120 openssl s_client -connect mqtt.board.test:8883 -provider tpm2 -provider default -propquery '?provider=tpm2' -cert /etc/pinpost/device.crt -key handle:$handle -CAfile /etc/pinpost/ca.crt -verify_return_error -brief < /dev/null > /root/s_client.tpmrm0 2>&1 || true"
    kv "tpmrm0_handshake=$(g 'if grep -q "CONNECTION ESTABLISHED" /root/s_client.tpmrm0 && ! grep -q "out of memory for object contexts" /root/s_client.tpmrm0; then echo ok; elif grep -q "out of memory for object contexts" /root/s_client.tpmrm0; then echo TPM_RC_OBJECT_MEMORY; else echo failed; fi')"
}
