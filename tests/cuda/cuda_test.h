/* CUDA tests open their backends through tests/test_backend.h, which skips
 * only when the CUDA backend cannot run on this machine. */
#ifndef VLA_TEST_CUDA_H
#define VLA_TEST_CUDA_H

#include "harness.h"
#include "test_backend.h"

#define CUDA_TEST_SKIP TEST_SKIP_UNLESS_FAILED
#define cuda_test_load test_backend_load
#define cuda_test_open test_backend_open

#endif
