// SPDX-License-Identifier: GPL-2.0
/*
 * What the core's entry points (core/entry.h) decide for the kapi shim:
 * the text of the debugfs stats file, whose "name value" lines the VM
 * selftests and scripts parse, and the mdev calls' argument checks.
 */
#include "test_common.h"

#include <cstring>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

using namespace vt;

namespace {

/* The counter lines of the stats file, in order (main.c appends the build's three). */
const std::vector<std::string> stat_names = {
	"containers_live", "containers_opened", "groups_attached", "domains_live",
	"dmas_live",	   "pages_pinned",	"external_pages",  "devices_registered",
	"prereg_pages",	   "mm_exits",
};

std::string stats_text()
{
	char buf[VFIO_CXX_STATS_TEXT_MAX];
	unsigned long n = vfio_cxx_format_stats(buf, sizeof(buf));
	EXPECT_LE(n, sizeof(buf));
	return std::string(buf, n);
}

/* What main.c's seq_printf("%s %llu\n") lines printed before the core formatted them. */
std::string printf_text(const vfio_cxx_stats &s)
{
	const unsigned long long v[] = { s.containers_live, s.containers_opened, s.groups_attached,
					 s.domains_live,    s.dmas_live,	 s.pages_pinned,
					 s.external_pages,  s.devices_registered, s.prereg_pages,
					 s.mm_exits };
	std::string out;
	char line[64];
	for (size_t i = 0; i < stat_names.size(); i++) {
		snprintf(line, sizeof(line), "%s %llu\n", stat_names[i].c_str(), v[i]);
		out += line;
	}
	return out;
}

class EntryStats : public CoreTest {};

class EntryMdev : public ContainerTest {};
class EntryMdevV1 : public ContainerTest {
protected:
	EntryMdevV1() : ContainerTest(TYPE1) {}
};

constexpr kapi_u64 UNTOUCHED = 0xdeadbeef;

} /* namespace */

TEST_F(EntryStats, TextIsOneNameValueLinePerCounter)
{
	vfio_cxx_container *c = open_ok();
	const vfio_cxx_stats s = stats();
	ASSERT_EQ(s.containers_live, 1u);
	const std::string text = stats_text();
	EXPECT_EQ(text, printf_text(s));
	/* The names and their order are what the parsers read. */
	std::istringstream in(text);
	std::string name, value;
	size_t i = 0;
	while (in >> name >> value) {
		ASSERT_LT(i, stat_names.size());
		EXPECT_EQ(name, stat_names[i++]);
	}
	EXPECT_EQ(i, stat_names.size());
	EXPECT_NE(text.find("containers_live 1\n"), std::string::npos) << text;
	vfio_cxx_release(c);
	EXPECT_NE(stats_text().find("containers_live 0\n"), std::string::npos);
}

TEST_F(EntryStats, ShortBufferIsCutNeverOverrun)
{
	const std::string full = stats_text();
	char buf[64];
	for (unsigned long size : { 0UL, 1UL, 7UL, 16UL, 40UL }) {
		memset(buf, 'x', sizeof(buf));
		unsigned long n = vfio_cxx_format_stats(buf, size);
		EXPECT_EQ(n, size);
		EXPECT_EQ(std::string(buf, n), full.substr(0, n));
		for (unsigned long i = size; i < sizeof(buf); i++)
			ASSERT_EQ(buf[i], 'x') << "size " << size << ", byte " << i;
	}
}

/* VFIO_CXX_STATS_TEXT_MAX holds every line with a 20-digit value (UINT64_MAX). */
TEST_F(EntryStats, MaxTextFitsEveryValue)
{
	vfio_cxx::Counter *const all[] = {
		&vfio_cxx::g_stats.containers_live, &vfio_cxx::g_stats.containers_opened,
		&vfio_cxx::g_stats.groups_attached, &vfio_cxx::g_stats.domains_live,
		&vfio_cxx::g_stats.dmas_live,	    &vfio_cxx::g_stats.pages_pinned,
		&vfio_cxx::g_stats.external_pages,  &vfio_cxx::g_stats.devices_registered,
		&vfio_cxx::g_stats.prereg_pages,    &vfio_cxx::g_stats.mm_exits,
	};
	ASSERT_EQ(std::size(all), stat_names.size());
	std::vector<unsigned long long> added;
	for (vfio_cxx::Counter *c : all) {
		added.push_back(~0ULL - c->read());
		c->add(added.back());
	}
	const std::string text = stats_text();
	for (size_t i = 0; i < std::size(all); i++)
		all[i]->sub(added[i]);

	std::string want;
	for (const std::string &name : stat_names)
		want += name + " 18446744073709551615\n";
	EXPECT_EQ(text, want);
	EXPECT_LE(want.size(), (size_t)VFIO_CXX_STATS_TEXT_MAX);
}

/* No container, no page array or nothing to pin: -EINVAL, and the array is left alone. */
TEST_F(EntryMdev, PinPagesArgumentsAreEinvalFirst)
{
	kapi_u64 pfns[2] = { UNTOUCHED, UNTOUCHED };
	const int R = KAPI_IOMMU_READ;
	EXPECT_EQ(vfio_cxx_pin_pages(nullptr, nullptr, 0x100000, 1, R, pfns), -EINVAL_);
	EXPECT_EQ(vfio_cxx_pin_pages(c_, nullptr, 0x100000, 1, R, nullptr), -EINVAL_);
	EXPECT_EQ(vfio_cxx_pin_pages(c_, nullptr, 0x100000, 0, R, pfns), -EINVAL_);
	EXPECT_EQ(vfio_cxx_pin_pages(c_, nullptr, 0x100000, -1, R, pfns), -EINVAL_);
	EXPECT_EQ(pfns[0], UNTOUCHED);
	EXPECT_EQ(pfns[1], UNTOUCHED);
	/* Any other failure zeroes the array (nothing is mapped there: -EINVAL, B15). */
	EXPECT_EQ(vfio_cxx_pin_pages(c_, nullptr, 0x100000, 2, R, pfns), -EINVAL_);
	EXPECT_EQ(pfns[0], 0u);
	EXPECT_EQ(pfns[1], 0u);
	EXPECT_EQ(khost::pinned_pages(), 0u);
}

/* A v1 container refuses vendor pins (-EACCES, as type1), and the array is zeroed. */
TEST_F(EntryMdevV1, PinPagesFailureZeroesPfns)
{
	kapi_u64 pfns[3] = { UNTOUCHED, UNTOUCHED, UNTOUCHED };
	EXPECT_EQ(vfio_cxx_pin_pages(c_, nullptr, 0x100000, 3, KAPI_IOMMU_READ, pfns), -EACCES_);
	for (kapi_u64 p : pfns)
		EXPECT_EQ(p, 0u);
	/* ... but an argument error still comes first, even here. */
	EXPECT_EQ(vfio_cxx_pin_pages(c_, nullptr, 0x100000, 0, KAPI_IOMMU_READ, pfns), -EINVAL_);
}

TEST_F(EntryMdev, UnpinAndDmaRwArguments)
{
	char buf[8] = {};
	vfio_cxx_unpin_pages(nullptr, 0x100000, 1); /* ignored */
	vfio_cxx_unpin_pages(c_, 0x100000, 0);
	vfio_cxx_unpin_pages(c_, 0x100000, -3);
	EXPECT_EQ(vfio_cxx_dma_rw(nullptr, 0x100000, buf, sizeof(buf), 0), -EINVAL_);
	EXPECT_EQ(vfio_cxx_dma_rw(c_, 0x100000, nullptr, sizeof(buf), 1), -EINVAL_);
	/* With both, the container answers: nothing is mapped there. */
	EXPECT_EQ(vfio_cxx_dma_rw(c_, 0x100000, buf, sizeof(buf), 0), -EINVAL_);
}
