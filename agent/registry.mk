include agent/registry/registry.mk
