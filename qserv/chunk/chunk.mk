# chunk.mk: libqchunk.a, Qserv's spherical partitioning (stripes, chunks,
# sub-chunks, overlap, region -> chunks), and its unit tests.
# Consumers include "qserv/chunk/chunk.h" and link libqchunk.a with -lm.
PUBLIC_HEADERS += qserv/chunk/chunk.h
QCHUNK_SRCS := qserv/chunk/chunker.c qserv/chunk/region.c qserv/chunk/cover.c
$(eval $(call static_lib,libqchunk.a,$(QCHUNK_SRCS)))
$(eval $(call unit_test,qchunk_layout_test,qserv/chunk/tests/layout_test.c,-lm,libqchunk.a))
$(eval $(call unit_test,qchunk_region_test,qserv/chunk/tests/region_test.c,-lm,libqchunk.a))
