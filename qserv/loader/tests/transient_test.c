/* transient_test.c: which contribution failures the loader retries
 * (ldr_transient), on the errors qhttpc really returns: a refused
 * connection (nothing listens on 127.0.0.1:1) and a non-JSON HTTP 503
 * are transient; a worker's refusal of the data (its JSON error text, as
 * qhttpc returns a 4xx), a missing file and a conflict are not. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <kselftest_harness.h>

#include "qserv/common/qhttpc.h"
#include "qserv/loader/internal.h"

TEST(refused_connection_is_transient)
{
	char err[512] = "";
	ASSERT_EQ(0, qhttpc_init());
	json_t *body = json_object();
	int r = qhttpc_json("POST", "http://127.0.0.1:1/ingest/file", body, NULL, err, sizeof err);
	json_decref(body);
	ASSERT_NE(0, r);
	EXPECT_TRUE(ldr_transient(r, err)) TH_LOG("%d %s", r, err);
}

TEST(errnos_of_the_network_are_transient)
{
	EXPECT_TRUE(ldr_transient(-ECONNREFUSED, ""));
	EXPECT_TRUE(ldr_transient(-ECONNRESET, ""));
	EXPECT_TRUE(ldr_transient(-ETIMEDOUT, ""));
	EXPECT_TRUE(ldr_transient(-EAGAIN, ""));
}

TEST(non_json_5xx_is_transient)
{
	EXPECT_TRUE(ldr_transient(-EPROTO, "http://w:1/ingest/file: HTTP 503, reply is not a JSON object: busy"));
	EXPECT_TRUE(ldr_transient(-EIO, "http://w:1/ingest/file: Empty reply from server"));
	EXPECT_TRUE(ldr_transient(-EIO, "http://w:1/ingest/file: Recv failure: Connection reset by peer"));
	EXPECT_TRUE(ldr_transient(-EIO, "http://w:1/ingest/file: Operation timed out after 10001 milliseconds"));
}

TEST(refusals_are_permanent)
{
	EXPECT_FALSE(ldr_transient(-EIO, "line 5: 9 fields, expected 12 (table Source has 12 columns)"));
	EXPECT_FALSE(ldr_transient(-EPROTO, "http://w:1/ingest/file: HTTP 400, reply is not a JSON object: bad"));
	EXPECT_FALSE(ldr_transient(-ENOENT, "no such table"));
	EXPECT_FALSE(ldr_transient(-EBUSY, "transaction 7 is not started"));
	EXPECT_FALSE(ldr_transient(-ENOMEM, "out of memory"));
}

TEST_HARNESS_MAIN
