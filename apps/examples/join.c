/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * join.c - chapter 37.6: two async functions run concurrently with join!.
 *
 *   async fn task1() { println!("Task 1 started"); sleep(2s).await;
 *                      println!("Task 1 completed"); }
 *   async fn task2() { ... sleep(1s) ... }
 *   join!(task1(), task2()); println!("Both tasks completed");
 */
#include "example_common.h"
#include "ex_combinator.h"

enum work_state {
	WORK_STATE_START = 0,
	WORK_STATE_SLEEPING,
};

/* async fn task<n>(): both functions share this shape. */
struct work {
	struct ex_future base;
	enum work_state state;
	int id;
	struct ex_sleep sleep;
};

static enum ex_poll
work_poll(struct ex_future *f, struct ex_context *cx)
{
	struct work *w = EX_CONTAINER_OF(f, struct work, base);

	switch (w->state) {
	case WORK_STATE_START:
		printf("Task %d started\n", w->id);
		w->state = WORK_STATE_SLEEPING;
		__attribute__((fallthrough));
	case WORK_STATE_SLEEPING:
		if (ex_await(&w->sleep.base, cx) == EX_PENDING)
			return EX_PENDING;
		printf("Task %d completed\n", w->id);
		return EX_READY;
	}
	return EX_PENDING;
}

static void
work_drop(struct ex_future *f)
{
	ex_future_drop(&EX_CONTAINER_OF(f, struct work, base)->sleep.base);
}

static const struct ex_future_ops work_ops = {
	.poll = work_poll, .drop = work_drop, .name = "work"
};

static void
work_init(struct work *w, int id, uint64_t duration)
{
	ex_future_init(&w->base, &work_ops);
	w->state = WORK_STATE_START;
	w->id = id;
	ex_sleep_init(&w->sleep, duration);
}

int
main(int argc, char **argv)
{
	struct ex_executor *ex = example_boot(argc, argv);
	struct work task1, task2;
	struct ex_join2 both;

	work_init(&task1, 1, 2 * EXAMPLE_SECOND);
	work_init(&task2, 2, 1 * EXAMPLE_SECOND);
	ex_join2_init(&both, &task1.base, &task2.base);
	ex_block_on(ex, &both.base);
	printf("Both tasks completed\n");
	return example_shutdown(ex, 0);
}
