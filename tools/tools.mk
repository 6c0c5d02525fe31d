# tools.mk: checks over the whole tree.
INTEG_TESTS += tools/tests/musl_check.sh
