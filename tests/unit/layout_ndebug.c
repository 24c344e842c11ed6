/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * layout_ndebug.c - the executor's public structs as a program built with
 * -DRT_NDEBUG (a release build) sees them, for ExecutorLayout.* in
 * test_ex_executor.cc, which is built without it (or with it, in a release
 * build: the two views must agree either way).
 */
#include "ex_executor.h"

uint32_t layout_ndebug(void);
size_t layout_ndebug_future_size(void);

uint32_t
layout_ndebug(void)
{
	return EX_LAYOUT;
}

size_t
layout_ndebug_future_size(void)
{
	return sizeof(struct ex_future);
}
