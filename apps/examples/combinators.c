/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * combinators.c - chapter 37.2 and 37.6: map, and_then, a pinned future
 * polled by hand with a no-op waker, and FetchDataFuture that wakes itself
 * once.
 *
 *   async { 5 }.map(add_one)                 -> "Result: 6"
 *   fetch_data().and_then(process_data)      -> "Result: Processed Data fetched"
 *   MyFuture { value: 42 } polled once        -> "Future resolved with value: 42"
 *   FetchDataFuture                           -> "Fetched data"
 */
#include <errno.h>

#include "example_common.h"
#include "ex_combinator.h"

/* async fn add_one(n) -> n + 1, as the map function */
static int32_t
add_one(struct ex_future *inner, void *arg)
{
	(void)arg;
	return inner->result + 1;
}

/* fetch_data() -> "Data fetched"; process_data(data) -> "Processed " + data */
struct string_future {
	struct ex_future base;
	char text[64];
};

static enum ex_poll
string_ready_poll(struct ex_future *f, struct ex_context *cx)
{
	(void)f;
	(void)cx;
	return EX_READY;
}

static const struct ex_future_ops string_ops = {
	.poll = string_ready_poll,
	.drop = NULL,
	.name = "string",
};

static int32_t
process_data(struct ex_future *first, struct ex_future *second, void *arg)
{
	struct string_future *in = EX_CONTAINER_OF(first, struct string_future, base);
	struct string_future *out = EX_CONTAINER_OF(second, struct string_future, base);

	(void)arg;
	ex_future_init(&out->base, &string_ops);
	/* format!("Processed {}", data); a too long input is an error, not a cut */
	if ((size_t)snprintf(out->text, sizeof(out->text), "Processed %.*s",
			    (int)(sizeof(out->text) - sizeof("Processed ")),
			    in->text) >= sizeof(out->text))
		return -ENAMETOOLONG;
	return 0;
}

/* struct MyFuture { value: u32 } - ready at once */
struct my_future {
	struct ex_future base;
	uint32_t value;
};

static enum ex_poll
my_future_poll(struct ex_future *f, struct ex_context *cx)
{
	(void)cx;
	f->result = (int32_t)EX_CONTAINER_OF(f, struct my_future, base)->value;
	return EX_READY;
}

static const struct ex_future_ops my_future_ops = {
	.poll = my_future_poll,
	.drop = NULL,
	.name = "my_future",
};

/* FetchDataFuture: pending (and wakes itself) once, then ready. */
struct fetch_data_future {
	struct ex_future base;
	int completed;
	const char *output;
};

static enum ex_poll
fetch_data_future_poll(struct ex_future *f, struct ex_context *cx)
{
	struct fetch_data_future *d = EX_CONTAINER_OF(f, struct fetch_data_future, base);

	if (d->completed) {
		d->output = "Fetched data";
		return EX_READY;
	}
	d->completed = 1; /* simulate some work */
	ex_waker_wake(&cx->waker);
	return EX_PENDING;
}

static const struct ex_future_ops fetch_data_future_ops = {
	.poll = fetch_data_future_poll,
	.drop = NULL,
	.name = "fetch_data_future",
};

int
main(int argc, char **argv)
{
	struct ex_executor *ex = example_boot(argc, argv);
	struct ex_ready five;
	struct ex_map plus_one;
	struct string_future fetched, processed;
	struct ex_then chain;
	struct my_future mine;
	struct ex_context noop_cx = { ex_waker_noop() };
	struct fetch_data_future fdf;

	ex_ready_init(&five, 5);
	ex_map_init(&plus_one, &five.base, add_one, NULL);
	printf("Result: %d\n", ex_block_on(ex, &plus_one.base));

	ex_future_init(&fetched.base, &string_ops);
	snprintf(fetched.text, sizeof(fetched.text), "Data fetched");
	ex_then_init(&chain, &fetched.base, &processed.base, process_data, NULL);
	ex_block_on(ex, &chain.base);
	printf("Result: %s\n", processed.text);

	/* Pin::new(&future).poll(&mut Context::from_waker(&noop_waker())):
	 * in C the future simply stays where it is; debug builds check it. */
	ex_future_init(&mine.base, &my_future_ops);
	mine.value = 42;
	if (ex_future_poll(&mine.base, &noop_cx) == EX_READY)
		printf("Future resolved with value: %d\n", mine.base.result);

	ex_future_init(&fdf.base, &fetch_data_future_ops);
	fdf.completed = 0;
	ex_block_on(ex, &fdf.base);
	printf("%s\n", fdf.output);
	return example_shutdown(ex, 0);
}
