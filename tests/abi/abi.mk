# tests/abi/abi.mk - make fragment for the module-header ABI tests.
#
# In the top-level Makefile:
#     include tests/abi/abi.mk
#     test: test-abi
#
# The script builds into build/abi (override with ABI_BUILD_DIR) and honours
# CC and CXX.

.PHONY: test-abi
test-abi:
	sh tests/abi/run.sh
