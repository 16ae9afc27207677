// The CSV writer: numbers in their shortest round-trip form, quoting, and rows built by
// column name. One rule per test.

#include "istlab/io/csv.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace istlab {
namespace {

// The double `text` reads back to. std::from_chars, not std::stod: stod throws
// out_of_range for subnormals such as 5e-324 (strtod sets ERANGE), although the text is
// exact and every CSV reader the plots use (pandas, Python's float) accepts it.
double parsed(const std::string& text) {
  double value = 0.0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  EXPECT_EQ(error, std::errc()) << text;
  EXPECT_EQ(end, text.data() + text.size()) << text;
  return value;
}

TEST(Csv, NanIsAnEmptyField) {
  // "not applicable" (e.g. mu for a dense problem) must read back as missing, not as a number.
  EXPECT_EQ(format_number(std::numeric_limits<double>::quiet_NaN()), "");
}

TEST(Csv, InfinitiesAreSpelledInfAndMinusInf) {
  EXPECT_EQ(format_number(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(format_number(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(Csv, NumbersPrintInTheirShortestRoundTripForm) {
  // The shortest decimal that reads back to the same double (fmt's "{}"), so equal
  // results give equal bytes and no digit is noise.
  EXPECT_EQ(format_number(0.1), "0.1");
  EXPECT_EQ(format_number(1.0 / 3.0), "0.3333333333333333");  // 16 digits suffice here
  EXPECT_EQ(format_number(1e-300), "1e-300");
  EXPECT_EQ(format_number(5e-324), "5e-324");  // the smallest subnormal
  EXPECT_EQ(format_number(100.0), "100");      // integral values carry no ".0"
  EXPECT_EQ(format_number(1e16), "1e+16");
}

TEST(Csv, FormattedNumbersReadBackToTheSameDouble) {
  const std::vector<double> awkward = {
      0.1,      1.0 / 3.0,         1e-300,
      5e-324,   2.0 / 3.0 * 1e300, 0.3 - 0.1,
      1e16 + 2, -7.25e-5,          std::numeric_limits<double>::max()};
  for (const double value : awkward) {
    const std::string text = format_number(value);
    EXPECT_EQ(parsed(text), value) << text;
  }
}

TEST(Csv, NegativeZeroKeepsItsSign) {
  // fmt keeps the sign bit: "-0", which reads back as −0.0, so the bytes follow the bits
  // (−0.0 == 0.0 compares equal, hence the signbit check).
  EXPECT_EQ(format_number(-0.0), "-0");
  EXPECT_TRUE(std::signbit(parsed(format_number(-0.0))));
  EXPECT_EQ(format_number(0.0), "0");
}

TEST(Csv, PlainFieldsAreJoinedByCommasAndEndInANewline) {
  EXPECT_EQ(csv_row({"gd", "0.5", "", "12"}), "gd,0.5,,12\n");
  EXPECT_EQ(csv_row({"only"}), "only\n");
}

TEST(Csv, FieldWithACommaIsQuoted) { EXPECT_EQ(csv_row({"a,b", "c"}), "\"a,b\",c\n"); }

TEST(Csv, QuotesInsideAFieldAreDoubledAndTheFieldQuoted) {
  EXPECT_EQ(csv_row({"say \"hi\""}), "\"say \"\"hi\"\"\"\n");
  EXPECT_EQ(csv_row({"\""}), "\"\"\"\"\n");
}

TEST(Csv, FieldWithANewlineIsQuoted) {
  EXPECT_EQ(csv_row({"two\nlines", "x"}), "\"two\nlines\",x\n");
}

TEST(Csv, NamedFieldsLandInColumnOrder) {
  const std::vector<std::string> columns = {"method", "step_size", "rel_err"};
  // Given in another order, each value still lands under its own name.
  EXPECT_EQ(csv_row(columns, {{"rel_err", "1e-08"}, {"method", "ist"}, {"step_size", "0.5"}}),
            "ist,0.5,1e-08\n");
  EXPECT_EQ(csv_row(columns, {{"method", "gd"}, {"step_size", "0.1"}, {"rel_err", ""}}),
            "gd,0.1,\n");
}

TEST(Csv, NamedFieldsAreQuotedLikePlainOnes) {
  EXPECT_EQ(csv_row({"a", "b"}, {{"b", "x,y"}, {"a", "1"}}), "1,\"x,y\"\n");
}

TEST(Csv, UnknownColumnNameIsALogicError) {
  EXPECT_THROW(csv_row({"a", "b"}, {{"a", "1"}, {"c", "2"}}), std::logic_error);
}

TEST(Csv, MissingColumnIsALogicError) {
  EXPECT_THROW(csv_row({"a", "b", "c"}, {{"a", "1"}, {"c", "3"}}), std::logic_error);
}

TEST(Csv, DuplicateColumnIsALogicError) {
  // As many fields as columns, but "a" twice and "b" never.
  EXPECT_THROW(csv_row({"a", "b"}, {{"a", "1"}, {"a", "2"}}), std::logic_error);
  // One more field than columns.
  EXPECT_THROW(csv_row({"a", "b"}, {{"a", "1"}, {"b", "2"}, {"a", "3"}}), std::logic_error);
}

}  // namespace
}  // namespace istlab
