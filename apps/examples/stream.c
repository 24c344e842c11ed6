/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stream.c - chapter 37.6: an async stream consumed in a loop.
 *
 *   let mut stream = iter(vec![1, 2, 3, 4, 5]);
 *   while let Some(item) = stream.next().await {
 *       println!("Got item: {}", item);
 *       sleep(1s).await;
 *   }
 */
#include "example_common.h"
#include "ex_stream.h"
#include "ex_timer.h"

enum consume_state {
	CONSUME_STATE_NEXT = 0,
	CONSUME_STATE_SLEEP,
};

struct consume {
	struct ex_future base;
	enum consume_state state;
	struct ex_next_fut next;
	struct ex_sleep sleep;
};

static enum ex_poll
consume_poll(struct ex_future *f, struct ex_context *cx)
{
	struct consume *c = EX_CONTAINER_OF(f, struct consume, base);

	for (;;) {
		switch (c->state) {
		case CONSUME_STATE_NEXT:
			if (ex_await(&c->next.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (c->next.base.result <= 0)
				return EX_READY; /* None: the loop ends */
			printf("Got item: %llu\n", (unsigned long long)c->next.item.u64);
			ex_sleep_init(&c->sleep, EXAMPLE_SECOND);
			c->state = CONSUME_STATE_SLEEP;
			break;
		case CONSUME_STATE_SLEEP:
			if (ex_await(&c->sleep.base, cx) == EX_PENDING)
				return EX_PENDING;
			ex_next_init(&c->next, c->next.stream);
			c->state = CONSUME_STATE_NEXT;
			break;
		}
	}
}

static const struct ex_future_ops consume_ops = {
	.poll = consume_poll,
	.drop = NULL,
	.name = "consume",
};

int
main(int argc, char **argv)
{
	struct ex_executor *ex = example_boot(argc, argv);
	union ex_item items[5] = { { .u64 = 1 }, { .u64 = 2 }, { .u64 = 3 }, { .u64 = 4 },
		{ .u64 = 5 } };
	struct ex_stream_iter stream;
	struct consume c;

	ex_stream_iter_init(&stream, items, 5);
	ex_future_init(&c.base, &consume_ops);
	c.state = CONSUME_STATE_NEXT;
	ex_next_init(&c.next, &stream.base);
	ex_block_on(ex, &c.base);
	return example_shutdown(ex, 0);
}
