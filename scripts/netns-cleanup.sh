#!/usr/bin/env bash
# netns-cleanup.sh — remove everything the fault tests (tests/harness/netns.go)
# may have left behind after a crash: network namespaces and host links named
# glk*, processes still running inside those namespaces (an orphaned
# livekit-server keeps a deleted namespace alive), and nftables tables named
# glk* in the host namespace. The tests create their nft tables inside their
# own namespaces, so those go with the namespace.
#
# Unconditional: it also removes namespaces of a test run that is still going.
# The tests themselves (CleanupStale) only remove leftovers whose creating
# process is gone. Needs root; idempotent; prints what it removes.
set -euo pipefail

PREFIX=glk

if [[ $(id -u) -ne 0 ]]; then
  echo "netns-cleanup: needs root" >&2
  exit 1
fi

for ns in $(ip netns list 2>/dev/null | awk -v p="$PREFIX" 'index($1, p) == 1 {print $1}'); do
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    echo "netns-cleanup: kill $pid ($(cat /proc/"$pid"/comm 2>/dev/null || echo '?')) in $ns"
    kill -KILL "$pid" 2>/dev/null || true
  done
  echo "netns-cleanup: delete netns $ns"
  ip netns del "$ns" || true
done

# Host ends of veth pairs (deleting one end removes the pair).
for link in $(ip -o link show 2>/dev/null | awk -F': ' -v p="$PREFIX" '{split($2, a, "@"); if (index(a[1], p) == 1) print a[1]}'); do
  ip link show "$link" >/dev/null 2>&1 || continue # went with its peer
  echo "netns-cleanup: delete link $link"
  ip link del "$link" 2>/dev/null || true
done

if command -v nft >/dev/null; then
  nft list tables 2>/dev/null | while read -r _ family name; do
    if [[ "$name" == "$PREFIX"* ]]; then
      echo "netns-cleanup: delete nft table $family $name"
      nft delete table "$family" "$name" || true
    fi
  done
fi
