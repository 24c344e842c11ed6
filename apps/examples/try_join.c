/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * try_join.c - chapter 37.7: spawned tasks awaited with try_join!, and
 * try_join! meeting an error.
 *
 *   let t1 = spawn(perform_task("1", 2s)); let t2 = spawn(perform_task("2", 1s));
 *   try_join!(t1, t2); println!("All tasks completed");
 *
 *   match try_join!(perform_task("3", 2s), fail_after(1s)) {
 *       Err(e) => println!("Error: {}", e) }   // task 3 is cancelled, never completes
 */
#include <errno.h>

#include "example_common.h"
#include "ex_combinator.h"

/* async fn perform_task(name, delay) { sleep(delay).await;
 *                                      println!("Task {} completed", name); } */
struct perform_task {
	struct ex_future base;
	const char *name;
	struct ex_sleep sleep;
	int32_t fail; /* 0, or the error to finish with instead of printing */
};

static enum ex_poll
perform_task_poll(struct ex_future *f, struct ex_context *cx)
{
	struct perform_task *p = EX_CONTAINER_OF(f, struct perform_task, base);

	if (ex_await(&p->sleep.base, cx) == EX_PENDING)
		return EX_PENDING;
	if (p->fail) {
		f->result = p->fail;
		return EX_READY;
	}
	printf("Task %s completed\n", p->name);
	return EX_READY;
}

static void
perform_task_drop(struct ex_future *f)
{
	ex_future_drop(&EX_CONTAINER_OF(f, struct perform_task, base)->sleep.base);
}

static const struct ex_future_ops perform_task_ops = {
	.poll = perform_task_poll,
	.drop = perform_task_drop,
	.name = "perform_task",
};

static void
perform_task_init(struct perform_task *p, const char *name, uint64_t delay, int32_t fail)
{
	ex_future_init(&p->base, &perform_task_ops);
	p->name = name;
	ex_sleep_init(&p->sleep, delay);
	p->fail = fail;
}

int
main(int argc, char **argv)
{
	struct ex_executor *ex = example_boot(argc, argv);
	struct perform_task p1, p2, p3, p4;
	struct ex_join_handle h1, h2;
	struct ex_join_handle_fut j1, j2;
	struct ex_future *spawned[2] = { &j1.base, &j2.base };
	struct ex_future *direct[2] = { &p3.base, &p4.base };
	struct ex_try_join all, failing;
	int rc;

	/* Spawned tasks: their join handles are what try_join awaits. */
	perform_task_init(&p1, "1", 2 * EXAMPLE_SECOND, 0);
	perform_task_init(&p2, "2", 1 * EXAMPLE_SECOND, 0);
	ex_join_handle_init(&h1);
	ex_join_handle_init(&h2);
	if (ex_spawn(&p1.base, &h1, NULL) != 0 || ex_spawn(&p2.base, &h2, NULL) != 0)
		return example_shutdown(ex, 1);
	ex_join_handle_fut_init(&j1, &h1);
	ex_join_handle_fut_init(&j2, &h2);
	ex_try_join_init(&all, spawned, 2);
	if (ex_block_on(ex, &all.base) == 0)
		printf("All tasks completed\n");

	/* The first error wins; the other future is dropped (cancelled). */
	perform_task_init(&p3, "3", 2 * EXAMPLE_SECOND, 0);
	perform_task_init(&p4, "4", 1 * EXAMPLE_SECOND, -ECONNRESET);
	ex_try_join_init(&failing, direct, 2);
	rc = ex_block_on(ex, &failing.base);
	if (rc < 0)
		printf("Error: %s\n", strerror(-rc));
	return example_shutdown(ex, 0);
}
