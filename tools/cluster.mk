# cluster.mk: the main job, `make cluster` (czar + 2 worker VMs of the image
# with a sample catalog loaded; tools/cluster) and `make cluster-down`.
.PHONY: cluster cluster-down
cluster: deps
	@$(MAKE) --no-print-directory image $(BUILD)/bin/qservctl $(BUILD)/bin/qserv-gen $(BUILD)/bin/qserv-partition
	@tools/cluster up

cluster-down:
	@tools/cluster down

# The same flow in a test namespace, answers checked against a reference MariaDB.
QEMU_TESTS += qemu-tests/cluster_query.sh

# Bring-up timings per node for 1 and 3 workers (make bench).
BENCHES += tools/bench-cluster.sh
