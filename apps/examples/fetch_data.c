/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fetch_data.c - chapter 37.3: an async function awaiting a sleep, and an
 * async block inside another async function.
 *
 *   async fn fetch_data() -> String { sleep(2s).await; "Fetched Data" }
 *   main: let data = fetch_data().await; println!("Received: {}", data);
 *   async fn perform_task() { let r = async { sleep(1s).await; "Task Complete" }.await;
 *                             println!("{}", r); }
 *
 * In C an async fn is a struct of its locals and an enum of its await
 * points; its poll is a switch over that enum.
 */
#include "example_common.h"
#include "ex_timer.h"

/* async fn fetch_data() -> String */
enum fetch_state {
	FETCH_STATE_SLEEP = 0,
};

struct fetch_data {
	struct ex_future base;
	enum fetch_state state;
	struct ex_sleep sleep; /* the child future, embedded */
	const char *output; /* the String it returns */
};

static enum ex_poll
fetch_data_poll(struct ex_future *f, struct ex_context *cx)
{
	struct fetch_data *fd = EX_CONTAINER_OF(f, struct fetch_data, base);

	switch (fd->state) {
	case FETCH_STATE_SLEEP:
		if (ex_await(&fd->sleep.base, cx) == EX_PENDING)
			return EX_PENDING;
		fd->output = "Fetched Data";
		return EX_READY;
	}
	return EX_PENDING;
}

static void
fetch_data_drop(struct ex_future *f)
{
	ex_future_drop(&EX_CONTAINER_OF(f, struct fetch_data, base)->sleep.base);
}

static const struct ex_future_ops fetch_data_ops = {
	.poll = fetch_data_poll,
	.drop = fetch_data_drop,
	.name = "fetch_data",
};

static void
fetch_data_init(struct fetch_data *fd)
{
	ex_future_init(&fd->base, &fetch_data_ops);
	fd->state = FETCH_STATE_SLEEP;
	ex_sleep_init(&fd->sleep, 2 * EXAMPLE_SECOND);
	fd->output = NULL;
}

/* async fn perform_task(): awaits an async block, then prints its value. */
struct perform_task {
	struct ex_future base;
	/* the async block's state, embedded like any child */
	struct {
		struct ex_sleep sleep;
		const char *output;
	} block;
};

static enum ex_poll
perform_task_poll(struct ex_future *f, struct ex_context *cx)
{
	struct perform_task *p = EX_CONTAINER_OF(f, struct perform_task, base);

	if (ex_await(&p->block.sleep.base, cx) == EX_PENDING)
		return EX_PENDING;
	p->block.output = "Task Complete";
	printf("%s\n", p->block.output);
	return EX_READY;
}

static const struct ex_future_ops perform_task_ops = {
	.poll = perform_task_poll,
	.drop = NULL,
	.name = "perform_task",
};

int
main(int argc, char **argv)
{
	struct ex_executor *ex = example_boot(argc, argv);
	struct fetch_data fd;
	struct perform_task pt;

	fetch_data_init(&fd);
	ex_block_on(ex, &fd.base);
	printf("Received: %s\n", fd.output);

	ex_future_init(&pt.base, &perform_task_ops);
	ex_sleep_init(&pt.block.sleep, EXAMPLE_SECOND);
	ex_block_on(ex, &pt.base);
	return example_shutdown(ex, 0);
}
