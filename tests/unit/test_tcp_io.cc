// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the reading helpers of tcp.h (Tokio's AsyncReadExt and
// AsyncBufReadExt are the models): read_exact, read_until with a bounded
// buffer, and a connection's lines as a stream. The peer is scripted segment
// by segment: lines split across segments, several in one, a peer that
// closes mid-line, a line longer than the buffer.
#include <cstring>
#include <string>

#include "tcp_fixture.h"

namespace
{

class TcpIo : public TcpTest
{
      protected:
	struct tcp_conn *c = nullptr;

	void SetUp() override
	{
		TcpTest::SetUp();
		c = Accept();
		ASSERT_NE(c, nullptr);
	}

	void TearDown() override
	{
		if (c != nullptr)
			tcp_abort(c);
		Sent();
		TcpTest::TearDown();
	}
};

// Twelve bytes asked for, delivered as 5 + 4 + 6: pending until the twelfth
// arrives; the three bytes beyond stay queued for the next read.
TEST_F(TcpIo, ReadExact_AcrossSegments_RestStaysQueued)
{
	char buf[16] = {};
	struct tcp_read_exact r;
	tcp_read_exact_init(&r, c, buf, 12);
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_PENDING);
	In(Data("hello"));
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_PENDING);
	EXPECT_EQ(r.done, 5u);
	In(Data(" wor"));
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_PENDING);
	In(Data("ld!abc"));
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(r.base.result, 12);
	EXPECT_EQ(std::string(buf, 12), "hello world!");
	EXPECT_EQ(ReadAll(c), "abc");
}

// The peer closes after 3 of 8 bytes: -ENODATA, the 3 bytes in the buffer.
TEST_F(TcpIo, ReadExact_PeerClosesFirst_ENODATA)
{
	char buf[8] = {};
	struct tcp_read_exact r;
	tcp_read_exact_init(&r, c, buf, 8);
	In(Data("abc", TCP_FLAG_FIN));
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(r.base.result, -ENODATA);
	EXPECT_EQ(r.done, 3u);
	EXPECT_EQ(std::string(buf, 3), "abc");
}

// A line split over three segments, then two lines in one segment: each
// read_until stops at its newline, the next one starts after it.
TEST_F(TcpIo, ReadUntil_LineSplitAcrossSegments_TwoInOne)
{
	char buf[64];
	struct tcp_read_until r;
	tcp_read_until_init(&r, c, '\n', buf, sizeof(buf));
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_PENDING);
	In(Data("GET /in"));
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_PENDING);
	In(Data("dex HTTP"));
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_PENDING);
	In(Data("/1.0\r\nHost: a\nX: 1\n"));
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(std::string(buf, (size_t)r.base.result), "GET /index HTTP/1.0\r\n");
	tcp_read_until_init(&r, c, '\n', buf, sizeof(buf));
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(std::string(buf, (size_t)r.base.result), "Host: a\n");
	tcp_read_until_init(&r, c, '\n', buf, sizeof(buf));
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(std::string(buf, (size_t)r.base.result), "X: 1\n");
	tcp_read_until_init(&r, c, '\n', buf, sizeof(buf));
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_PENDING);
	ex_future_drop(&r.base);
}

// A one-byte line is a line (not "pending"); a line longer than the buffer
// is -EMSGSIZE with the buffer full, the rest still queued.
TEST_F(TcpIo, ReadUntil_EmptyLine_AndALineLongerThanTheBuffer)
{
	char buf[8];
	struct tcp_read_until r;
	In(Data("\n0123456789\n"));
	tcp_read_until_init(&r, c, '\n', buf, sizeof(buf));
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(r.base.result, 1);
	tcp_read_until_init(&r, c, '\n', buf, sizeof(buf));
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(r.base.result, -EMSGSIZE);
	EXPECT_EQ(std::string(buf, 8), "01234567");
	EXPECT_EQ(ReadAll(c), "89\n");
}

// The peer closes mid-line: the part before the end comes without its
// newline, then 0 (the end).
TEST_F(TcpIo, ReadUntil_PeerClosesMidLine_PartThenEnd)
{
	char buf[32];
	struct tcp_read_until r;
	In(Data("one\ntw"));
	In(Data("o", TCP_FLAG_FIN));
	tcp_read_until_init(&r, c, '\n', buf, sizeof(buf));
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(std::string(buf, (size_t)r.base.result), "one\n");
	tcp_read_until_init(&r, c, '\n', buf, sizeof(buf));
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(std::string(buf, (size_t)r.base.result), "two");
	tcp_read_until_init(&r, c, '\n', buf, sizeof(buf));
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(r.base.result, 0);
}

// The lines stream: "\n" and "\r\n" stripped, an empty line yielded, a line
// split across segments waits, the unended last line comes before the end.
TEST_F(TcpIo, Lines_Stream_StripsEndings_LastLineWithoutNewline)
{
	char buf[32];
	struct tcp_lines l;
	ASSERT_EQ(tcp_lines_init(&l, c, buf, 1), -EINVAL);
	ASSERT_EQ(tcp_lines_init(&l, c, buf, sizeof(buf)), 0);
	union ex_item it;
	EXPECT_EQ(ex_stream_poll_next(&l.base, &cx, &it), EX_NEXT_PENDING);
	In(Data("alpha\r\n\nbe"));
	ASSERT_EQ(ex_stream_poll_next(&l.base, &cx, &it), EX_NEXT_ITEM);
	EXPECT_STREQ(static_cast<char *>(it.ptr), "alpha");
	EXPECT_EQ(l.line_len, 5u);
	ASSERT_EQ(ex_stream_poll_next(&l.base, &cx, &it), EX_NEXT_ITEM);
	EXPECT_STREQ(static_cast<char *>(it.ptr), "");
	EXPECT_EQ(ex_stream_poll_next(&l.base, &cx, &it), EX_NEXT_PENDING);
	In(Data("ta\ngam"));
	ASSERT_EQ(ex_stream_poll_next(&l.base, &cx, &it), EX_NEXT_ITEM);
	EXPECT_STREQ(static_cast<char *>(it.ptr), "beta");
	In(Data("ma", TCP_FLAG_FIN));
	ASSERT_EQ(ex_stream_poll_next(&l.base, &cx, &it), EX_NEXT_ITEM);
	EXPECT_STREQ(static_cast<char *>(it.ptr), "gamma");
	EXPECT_EQ(ex_stream_poll_next(&l.base, &cx, &it), EX_NEXT_END);
	EXPECT_EQ(l.base.error, 0);
	EXPECT_EQ(ex_stream_poll_next(&l.base, &cx, &it), EX_NEXT_END) << "and stays ended";
}

// A line that does not fit (cap - 1 bytes for the line and its NUL) ends the
// stream with -EMSGSIZE, after the lines before it.
TEST_F(TcpIo, Lines_TooLong_EMSGSIZE)
{
	char buf[8];
	struct tcp_lines l;
	ASSERT_EQ(tcp_lines_init(&l, c, buf, sizeof(buf)), 0);
	union ex_item it;
	In(Data("ok\n1234567890\n"));
	ASSERT_EQ(ex_stream_poll_next(&l.base, &cx, &it), EX_NEXT_ITEM);
	EXPECT_STREQ(static_cast<char *>(it.ptr), "ok");
	EXPECT_EQ(ex_stream_poll_next(&l.base, &cx, &it), EX_NEXT_END);
	EXPECT_EQ(l.base.error, -EMSGSIZE);
}

} // namespace
