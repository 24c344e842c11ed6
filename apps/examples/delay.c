/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * delay.c - chapter 37.2 / 37.4: a custom Delay future, written twice.
 *
 * BusyDelay is the chapter's first version: while not due it calls
 * wake_by_ref and returns Pending, so the executor polls it in a loop.
 * Delay is the refined one: it stores the waker, and a timer on the
 * executor's wheel wakes it once, when it is due. Both are spawned on the
 * executor, as in the chapter's hand-written executor, and print
 * "Task completed". Run: build/apps/examples/example_delay
 */
#include "example_common.h"
#include "ex_timer.h"

/* The chapter's first Delay: polls itself until the time has come. */
struct busy_delay {
	struct ex_future base;
	uint64_t when;
	uint64_t polls;
};

static enum ex_poll
busy_delay_poll(struct ex_future *f, struct ex_context *cx)
{
	struct busy_delay *d = EX_CONTAINER_OF(f, struct busy_delay, base);

	d->polls++;
	if (ex_now_ns(ex_context_executor(cx)) >= d->when)
		return EX_READY;
	ex_waker_wake(&cx->waker); /* cx.waker().wake_by_ref() */
	return EX_PENDING;
}

static const struct ex_future_ops busy_delay_ops = {
	.poll = busy_delay_poll,
	.drop = NULL,
	.name = "busy_delay",
};

/* The refined Delay: keeps the waker; a timer calls it when due. */
struct delay {
	struct ex_future base;
	uint64_t when;
	struct ex_timer timer; /* holds the stored waker */
	struct ex_wheel *wheel;
	uint64_t polls;
};

static enum ex_poll
delay_poll(struct ex_future *f, struct ex_context *cx)
{
	struct delay *d = EX_CONTAINER_OF(f, struct delay, base);
	struct ex_executor *ex = ex_context_executor(cx);

	d->polls++;
	if (ex_now_ns(ex) >= d->when)
		return EX_READY;
	/* self.waker = Some(cx.waker().clone()), and ask the wheel to use it */
	d->wheel = ex_executor_wheel(ex);
	ex_timer_arm(d->wheel, &d->timer, d->when, &cx->waker);
	return EX_PENDING;
}

static void
delay_drop(struct ex_future *f)
{
	struct delay *d = EX_CONTAINER_OF(f, struct delay, base);

	if (d->wheel != NULL)
		ex_timer_cancel(d->wheel, &d->timer);
}

static const struct ex_future_ops delay_ops = {
	.poll = delay_poll,
	.drop = delay_drop,
	.name = "delay",
};

/* async { Delay::new(d).await; println!("Task completed"); } */
enum task_state {
	TASK_STATE_START = 0,
	TASK_STATE_WAIT,
};

struct task {
	struct ex_future base;
	enum task_state state;
	struct ex_future *delay; /* the busy or the refined one */
};

static enum ex_poll
task_poll(struct ex_future *f, struct ex_context *cx)
{
	struct task *t = EX_CONTAINER_OF(f, struct task, base);

	switch (t->state) {
	case TASK_STATE_START:
		t->state = TASK_STATE_WAIT;
		__attribute__((fallthrough));
	case TASK_STATE_WAIT:
		if (ex_await(t->delay, cx) == EX_PENDING)
			return EX_PENDING;
		printf("Task completed\n");
		return EX_READY;
	}
	return EX_PENDING;
}

static const struct ex_future_ops task_ops = { .poll = task_poll, .drop = NULL, .name = "task" };

int
main(int argc, char **argv)
{
	struct ex_executor *ex = example_boot(argc, argv);
	struct busy_delay bd;
	struct delay d;
	struct task t1, t2;

	ex_future_init(&bd.base, &busy_delay_ops);
	bd.when = ex_now_ns(ex) + EXAMPLE_SECOND;
	bd.polls = 0;
	ex_future_init(&t1.base, &task_ops);
	t1.state = TASK_STATE_START;
	t1.delay = &bd.base;
	ex_block_on(ex, &t1.base);

	ex_future_init(&d.base, &delay_ops);
	ex_timer_init_waker(&d.timer);
	d.wheel = NULL;
	d.when = ex_now_ns(ex) + EXAMPLE_SECOND;
	d.polls = 0;
	ex_future_init(&t2.base, &task_ops);
	t2.state = TASK_STATE_START;
	t2.delay = &d.base;
	ex_block_on(ex, &t2.base);

	/* The point of storing the waker: two polls instead of thousands. */
	fprintf(stderr, "busy delay: %llu polls; delay with a stored waker: %llu polls\n",
			(unsigned long long)bd.polls, (unsigned long long)d.polls);
	return example_shutdown(ex, d.polls == 2 ? 0 : 1);
}
