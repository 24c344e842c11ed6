/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * select_timeout.c - racing futures: select! against a sleep, and timeout().
 *
 *   select! { d = fetch_data() => println!("Received: {}", d),
 *             _ = sleep(1s)    => println!("Timed out after 1s") }
 *   match timeout(3s, fetch_data()).await { Ok(d) => println!("Received: {}", d), ... }
 *   match timeout(1s, fetch_data()).await { Err(e) => println!("Error: {}", e), ... }
 *
 * fetch_data() takes 2 s. select drops the loser; timeout drops the inner
 * future when the deadline passes.
 */
#include <errno.h>

#include "example_common.h"
#include "ex_combinator.h"

struct fetch_data {
	struct ex_future base;
	struct ex_sleep sleep;
	const char *output;
};

static enum ex_poll
fetch_data_poll(struct ex_future *f, struct ex_context *cx)
{
	struct fetch_data *d = EX_CONTAINER_OF(f, struct fetch_data, base);

	if (ex_await(&d->sleep.base, cx) == EX_PENDING)
		return EX_PENDING;
	d->output = "Fetched Data";
	return EX_READY;
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
fetch_data_init(struct fetch_data *d)
{
	ex_future_init(&d->base, &fetch_data_ops);
	ex_sleep_init(&d->sleep, 2 * EXAMPLE_SECOND);
	d->output = NULL;
}

int
main(int argc, char **argv)
{
	struct ex_executor *ex = example_boot(argc, argv);
	struct fetch_data a, b, c;
	struct ex_sleep one_second;
	struct ex_future *racers[2] = { &a.base, &one_second.base };
	struct ex_select race;
	struct ex_timeout slow_enough, too_slow;
	int rc;

	fetch_data_init(&a);
	ex_sleep_init(&one_second, EXAMPLE_SECOND);
	ex_select_init(&race, racers, 2);
	ex_block_on(ex, &race.base);
	if (race.winner == 0)
		printf("Received: %s\n", a.output);
	else
		printf("Timed out after 1s\n");

	fetch_data_init(&b);
	ex_timeout_init(&slow_enough, &b.base, 3 * EXAMPLE_SECOND);
	rc = ex_block_on(ex, &slow_enough.base);
	if (rc == 0)
		printf("Received: %s\n", b.output);

	fetch_data_init(&c);
	ex_timeout_init(&too_slow, &c.base, EXAMPLE_SECOND);
	rc = ex_block_on(ex, &too_slow.base);
	if (rc == -ETIMEDOUT)
		printf("Error: deadline has elapsed\n");
	return example_shutdown(ex, 0);
}
