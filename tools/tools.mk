# tools.mk: checks over the whole tree: every project C file through
# musl-gcc, and the component layering (tools/check-layers).
INTEG_TESTS += tools/tests/musl_check.sh tools/check-layers
INTEG_TESTS += tools/tests/analyze.sh
INTEG_TESTS += tools/tests/attack_cluster.sh
INTEG_TESTS += tools/tests/dev_cluster.sh
