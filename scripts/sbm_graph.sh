#!/usr/bin/env bash
# A synthetic graph for scale tests: a stochastic block model of NODES nodes in
# BLOCKS equal blocks, EDGES edge lines, each from a uniform node to a node of
# its own block with probability P_IN (default 0.9), else to any node. Prints
# the edge list ("u v" a line; duplicates and self-loops are left to clae to
# merge and count) and, with --labels FILE, writes node,block there.
#   scripts/sbm_graph.sh NODES EDGES BLOCKS [SEED] [--p-in P] [--labels FILE] > edges.txt
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
nodes=$1 edges=$2 blocks=$3; shift 3
seed=1 p_in=0.9 labels=
[ $# -gt 0 ] && [[ $1 != --* ]] && { seed=$1; shift; }
while [ $# -gt 0 ]; do
  case $1 in
    --p-in) p_in=$2; shift 2 ;;
    --labels) labels=$2; shift 2 ;;
    *) echo "sbm_graph.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
awk -v n="$nodes" -v m="$edges" -v b="$blocks" -v s="$seed" -v p="$p_in" 'BEGIN {
  srand(s); size = int(n / b); if (size < 1) size = 1
  for (k = 0; k < m; k++) {
    u = int(rand() * n); blk = int(u / size)
    if (rand() < p) { v = blk * size + int(rand() * size); if (v >= n) v = n - 1 }
    else v = int(rand() * n)
    print u, v
  }
}'
if [ -n "$labels" ]; then
  awk -v n="$nodes" -v b="$blocks" 'BEGIN { size = int(n / b); if (size < 1) size = 1
    print "node,block"; for (u = 0; u < n; u++) print u "," int(u / size) }' > "$labels"
fi
