# gen.mk: qserv-gen, deterministic Object/Source-like catalog generator.
PUBLIC_HEADERS += qserv/gen/sky.h
QGEN_SRCS := qserv/gen/sky.c
$(eval $(call static_lib,libqgen.a,$(QGEN_SRCS)))
$(eval $(call program,qserv-gen,qserv/gen/main.c,-lm,libqgen.a))
INTEG_TESTS += qserv/gen/tests/gen_test.sh
