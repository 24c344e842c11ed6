/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spawn_cancel.c - spawning a task, letting it run, cancelling it.
 *
 *   let ticker = spawn(async { for i in 1.. { sleep(1s).await; println!("tick {}", i); } });
 *   sleep(3.5s).await;
 *   ticker.abort();
 *   match ticker.await { Err(e) if e.is_cancelled() => println!("ticker: task was cancelled") }
 *
 * Cancelling drops the task's future at a safe point: its pending sleep is
 * disarmed, and its join handle completes with -ECANCELED.
 */
#include <errno.h>

#include "example_common.h"
#include "ex_timer.h"

struct ticker {
	struct ex_future base;
	struct ex_sleep sleep;
	int ticks;
};

static enum ex_poll
ticker_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ticker *t = EX_CONTAINER_OF(f, struct ticker, base);

	while (ex_await(&t->sleep.base, cx) == EX_READY) {
		printf("tick %d\n", ++t->ticks);
		ex_sleep_init(&t->sleep, EXAMPLE_SECOND);
	}
	return EX_PENDING;
}

static void
ticker_drop(struct ex_future *f)
{
	ex_future_drop(&EX_CONTAINER_OF(f, struct ticker, base)->sleep.base);
}

static const struct ex_future_ops ticker_ops = {
	.poll = ticker_poll,
	.drop = ticker_drop,
	.name = "ticker",
};

/* main's async body: sleep, abort, await the handle. */
enum main_state {
	MAIN_STATE_SLEEP = 0,
	MAIN_STATE_JOIN,
};

struct main_task {
	struct ex_future base;
	enum main_state state;
	struct ex_sleep sleep;
	struct ex_task_ref ticker;
	struct ex_join_handle_fut join;
};

static enum ex_poll
main_task_poll(struct ex_future *f, struct ex_context *cx)
{
	struct main_task *m = EX_CONTAINER_OF(f, struct main_task, base);

	switch (m->state) {
	case MAIN_STATE_SLEEP:
		if (ex_await(&m->sleep.base, cx) == EX_PENDING)
			return EX_PENDING;
		ex_task_cancel(&m->ticker);
		m->state = MAIN_STATE_JOIN;
		__attribute__((fallthrough));
	case MAIN_STATE_JOIN:
		if (ex_await(&m->join.base, cx) == EX_PENDING)
			return EX_PENDING;
		if (m->join.base.result == -ECANCELED)
			printf("ticker: task was cancelled\n");
		return EX_READY;
	}
	return EX_PENDING;
}

static const struct ex_future_ops main_task_ops = {
	.poll = main_task_poll,
	.drop = NULL,
	.name = "main",
};

int
main(int argc, char **argv)
{
	struct ex_executor *ex = example_boot(argc, argv);
	struct ticker t;
	struct ex_join_handle h;
	struct main_task m;

	ex_future_init(&t.base, &ticker_ops);
	ex_sleep_init(&t.sleep, EXAMPLE_SECOND);
	t.ticks = 0;
	ex_join_handle_init(&h);
	ex_future_init(&m.base, &main_task_ops);
	m.state = MAIN_STATE_SLEEP;
	ex_sleep_init(&m.sleep, 3 * EXAMPLE_SECOND + EXAMPLE_SECOND / 2);
	ex_join_handle_fut_init(&m.join, &h);
	if (ex_spawn_to(ex, &t.base, &h, &m.ticker) != 0)
		return example_shutdown(ex, 1);
	ex_block_on(ex, &m.base);
	return example_shutdown(ex, ex_executor_wheel(ex)->armed == 0 ? 0 : 1);
}
