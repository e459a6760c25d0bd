# tests/abi/abi.mk - make fragment for the module-header ABI tests.
#
# In the top-level Makefile:
#     include tests/abi/abi.mk
#     test: test-abi
#
# The script builds into $BUILD/abi (or ABI_BUILD_DIR, default build/abi) and
# honours CC and CXX. The top-level Makefile's own `abi` target does the same.

.PHONY: test-abi
test-abi:
	sh tests/abi/run.sh
