// Scale labels (条码秤): hand-made 13- and 18-digit codes, check digits, and the amount check.
#include "yizhan/domain/scale_label.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {
namespace {

// The check digit computed here independently of the code under test: weights 3,1,3,… counted
// from the right end of the data, written as a position-from-left formula.
char check_digit_of(const std::string& data) {
  int sum = 0;
  const std::size_t n = data.size();
  for (std::size_t i = 0; i < n; ++i) {
    const int digit = data[i] - '0';
    sum += (n - i) % 2 == 1 ? 3 * digit : digit;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

std::string label(const std::string& data) {
  return data + check_digit_of(data);
}

std::string bad_check(const std::string& data) {
  const char good = check_digit_of(data);
  return data + static_cast<char>(good == '9' ? '0' : good + 1);
}

const std::vector<ScaleLabelFormat> kFormats = default_scale_label_formats();

template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no domain::Error thrown";
  return Error(ErrorCode::internal, "none");
}

TEST(ScaleLabel, CheckDigitMatchesPublishedGs1Vectors) {
  EXPECT_EQ(ean_check_digit("629104150021"), 3);
  EXPECT_EQ(ean_check_digit("703801005447"), 1);
  EXPECT_EQ(ean_check_digit("950110153100"), 0);
  // The reference's worked scale label 2110007035207.
  EXPECT_EQ(ean_check_digit("211000703520"), 7);
  // Sweden/GB RCN examples: the last digit is the EAN check over the twelve before it.
  EXPECT_EQ(ean_check_digit("208806011234"), 3);
  EXPECT_EQ(ean_check_digit("201112291234"), 6);
}

TEST(ScaleLabel, CheckDigitAgreesWithIndependentFormulaForManyLengths) {
  std::string data;
  for (int length = 1; length <= 20; ++length) {
    data += static_cast<char>('0' + (length * 7 + 3) % 10);
    EXPECT_EQ(ean_check_digit(data), check_digit_of(data) - '0') << data;
  }
}

TEST(ScaleLabel, ReadsTheReferenceAmountLabel) {
  const auto parsed = parse_scale_label("2110007035207", kFormats);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->plu, 10007);
  EXPECT_EQ(parsed->amount, Fen(3520));
  EXPECT_FALSE(parsed->grams.has_value());
}

TEST(ScaleLabel, ReadsA13DigitWeightLabel) {
  const auto parsed = parse_scale_label(label("220004201250"), kFormats);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->plu, 42);
  EXPECT_EQ(parsed->grams, 1250);
  EXPECT_FALSE(parsed->amount.has_value());
}

TEST(ScaleLabel, Reads18DigitAmountThenWeight) {
  const auto parsed = parse_scale_label(label("26123450123400500"), kFormats);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->plu, 12345);
  EXPECT_EQ(parsed->amount, Fen(1234));
  EXPECT_EQ(parsed->grams, 500);
}

TEST(ScaleLabel, Reads18DigitWeightThenAmount) {
  const auto parsed = parse_scale_label(label("27000010050001234"), kFormats);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->plu, 1);
  EXPECT_EQ(parsed->grams, 500);
  EXPECT_EQ(parsed->amount, Fen(1234));
}

TEST(ScaleLabel, CheckDigitOf18DigitLabelCoversAllSeventeenDigits) {
  // Any single changed digit after the flag must break the check digit (weights 1 and 3 are
  // both prime to 10), including the weight field that a 13-digit check would not cover.
  const std::string good = label("26123450123400500");
  ASSERT_TRUE(parse_scale_label(good, kFormats).has_value());
  for (std::size_t i = 2; i < 17; ++i) {
    std::string tampered = good;
    tampered[i] = tampered[i] == '9' ? '0' : static_cast<char>(tampered[i] + 1);
    EXPECT_EQ(error_of([&] { parse_scale_label(tampered, kFormats); }).code(), ErrorCode::invalid)
        << tampered;
  }
}

TEST(ScaleLabel, BadCheckDigitIs422NamingTheField) {
  const auto e =
      error_of([] { parse_scale_label(bad_check("211000703520"), kFormats, "lines[2].code"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid);
  EXPECT_EQ(e.details().at("field"), "lines[2].code");
  const auto e18 = error_of([] { parse_scale_label(bad_check("27000010050001234"), kFormats); });
  EXPECT_EQ(e18.code(), ErrorCode::invalid);
  EXPECT_EQ(e18.details().at("field"), "code");
}

TEST(ScaleLabel, NonDigitsInALabelOfOurShapeAre422) {
  const auto e = error_of([] { parse_scale_label("21000070352A7", kFormats); });
  EXPECT_EQ(e.code(), ErrorCode::invalid);
  EXPECT_EQ(e.details().at("field"), "code");
}

TEST(ScaleLabel, WeightZeroIs422In13And18DigitLabels) {
  EXPECT_EQ(error_of([] { parse_scale_label(label("220004200000"), kFormats); }).code(),
            ErrorCode::invalid);
  EXPECT_EQ(error_of([] { parse_scale_label(label("26000420123400000"), kFormats); }).code(),
            ErrorCode::invalid);
  EXPECT_EQ(error_of([] { parse_scale_label(label("27000420000001234"), kFormats); }).code(),
            ErrorCode::invalid);
}

TEST(ScaleLabel, AmountZeroInAnAmountOnlyLabelIs422) {
  EXPECT_EQ(error_of([] { parse_scale_label(label("211000700000"), kFormats); }).code(),
            ErrorCode::invalid);
}

TEST(ScaleLabel, UnknownFlagIsNotALabel) {
  // Flag 23 is not configured by default, even with a valid check digit.
  EXPECT_FALSE(parse_scale_label(label("231000703520"), kFormats).has_value());
  // A normal Chinese EAN-13 product barcode.
  EXPECT_FALSE(parse_scale_label(label("690123456789"), kFormats).has_value());
  // An 18-digit Alipay payment code starting 28.
  EXPECT_FALSE(parse_scale_label("281234567890123456", kFormats).has_value());
}

TEST(ScaleLabel, FlagMustMatchTheLengthOfItsLayout) {
  // 21 is a 13-digit layout: an 18-digit code starting 21 is not ours.
  EXPECT_FALSE(parse_scale_label(label("21000010050001234"), kFormats).has_value());
  // 26 is an 18-digit layout: a 13-digit code starting 26 is not ours.
  EXPECT_FALSE(parse_scale_label(label("261000703520"), kFormats).has_value());
  EXPECT_FALSE(parse_scale_label("", kFormats).has_value());
  EXPECT_FALSE(parse_scale_label("21", kFormats).has_value());
}

TEST(ScaleLabel, NoFormatsMeansNothingIsALabel) {
  EXPECT_FALSE(parse_scale_label("2110007035207", {}).has_value());
}

TEST(ScaleLabel, ConfiguredFlag28TurnsThatShapeIntoALabel) {
  const std::vector<ScaleLabelFormat> formats{*parse_scale_label_format("28:amount+weight")};
  const auto parsed = parse_scale_label(label("28000070012300250"), formats);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->plu, 7);
  EXPECT_EQ(parsed->amount, Fen(123));
  EXPECT_EQ(parsed->grams, 250);
}

TEST(ScaleLabel, ParsesFormatConfigurationText) {
  const auto amount = parse_scale_label_format("21:amount");
  ASSERT_TRUE(amount.has_value());
  EXPECT_EQ(amount->flag, "21");
  EXPECT_EQ(amount->fields, std::vector<LabelField>{LabelField::amount});
  const auto both = parse_scale_label_format("27:weight+amount");
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(both->fields, (std::vector<LabelField>{LabelField::weight, LabelField::amount}));
  for (const char* bad :
       {"", "21", "21:", "2:amount", "211:amount", "2a:amount", "21:price", "21:amount+",
        "21:amount+amount", "21:amount+weight+amount", "21:weight+weight", ":amount"}) {
    EXPECT_FALSE(parse_scale_label_format(bad).has_value()) << bad;
  }
}

TEST(ScaleLabel, DefaultFormatsAreTheDocumentedFour) {
  ASSERT_EQ(kFormats.size(), 4u);
  EXPECT_EQ(kFormats[0].flag, "21");
  EXPECT_EQ(kFormats[0].fields, std::vector<LabelField>{LabelField::amount});
  EXPECT_EQ(kFormats[1].flag, "22");
  EXPECT_EQ(kFormats[1].fields, std::vector<LabelField>{LabelField::weight});
  EXPECT_EQ(kFormats[2].flag, "26");
  EXPECT_EQ(kFormats[2].fields, (std::vector<LabelField>{LabelField::amount, LabelField::weight}));
  EXPECT_EQ(kFormats[3].flag, "27");
  EXPECT_EQ(kFormats[3].fields, (std::vector<LabelField>{LabelField::weight, LabelField::amount}));
}

std::string five_digits(std::int64_t value) {
  char text[8];
  std::snprintf(text, sizeof text, "%05lld", static_cast<long long>(value));
  return text;
}

TEST(ScaleLabel, RandomLabelsOfEveryDefaultLayoutReadBackWhatWasPrinted) {
  std::mt19937_64 random(21);
  for (int round = 0; round < 5000; ++round) {
    const int plu = static_cast<int>(random() % 100000);
    const std::int64_t amount = static_cast<std::int64_t>(random() % 99999) + 1;
    const std::int64_t grams = static_cast<std::int64_t>(random() % 99999) + 1;
    const int layout = static_cast<int>(random() % 4);
    std::string data = kFormats[static_cast<std::size_t>(layout)].flag + five_digits(plu);
    for (LabelField field : kFormats[static_cast<std::size_t>(layout)].fields)
      data += five_digits(field == LabelField::amount ? amount : grams);
    const std::string code = label(data);
    const auto parsed = parse_scale_label(code, kFormats);
    ASSERT_TRUE(parsed.has_value()) << code;
    EXPECT_EQ(parsed->plu, plu);
    EXPECT_EQ(parsed->amount.has_value(), layout != 1) << code;
    EXPECT_EQ(parsed->grams.has_value(), layout != 0) << code;
    EXPECT_EQ(parsed->amount.value_or(Fen(amount)), Fen(amount)) << code;
    EXPECT_EQ(parsed->grams.value_or(grams), grams) << code;

    // Any one digit misread after the flag is caught by the check digit.
    std::string misread = code;
    const std::size_t at = 2 + static_cast<std::size_t>(random() % (code.size() - 2));
    misread[at] = static_cast<char>('0' + (misread[at] - '0' + 1 + random() % 9) % 10);
    EXPECT_THROW(parse_scale_label(misread, kFormats), Error) << misread;
  }
}

TEST(ScaleLabel, RandomThirteenDigitProductBarcodesOutsideTheFlagsAreNotLabels) {
  std::mt19937_64 random(69);
  for (int round = 0; round < 2000; ++round) {
    std::string data = "69";
    for (int i = 0; i < 10; ++i)
      data += static_cast<char>('0' + random() % 10);
    EXPECT_FALSE(parse_scale_label(label(data), kFormats).has_value()) << data;
  }
}

// --- resolve_scale_label -------------------------------------------------------------------

TEST(ResolveScaleLabel, WeightAndAmountThatAgreeGiveTheLabelsAmount) {
  // ¥12.34/kg × 500 g = 617 fen exactly.
  const auto line = resolve_scale_label({1, Fen(617), 500}, Unit::gram, Fen(1234));
  EXPECT_EQ(line.quantity, Quantity::grams(500));
  EXPECT_EQ(line.total, Fen(617));
}

TEST(ResolveScaleLabel, ExactlyOneFenOffEitherWayIsAccepted) {
  // ¥12.99/kg × 333 g = 432.567 → 433 fen.
  EXPECT_EQ(resolve_scale_label({1, Fen(434), 333}, Unit::gram, Fen(1299)).total, Fen(434));
  EXPECT_EQ(resolve_scale_label({1, Fen(432), 333}, Unit::gram, Fen(1299)).total, Fen(432));
}

TEST(ResolveScaleLabel, MoreThanOneFenOffIsLabelPriceMismatchNamingBothAmounts) {
  for (std::int64_t amount : {431, 435, 0, 4330}) {
    const auto e = error_of([&] {
      resolve_scale_label({1, Fen(amount), 333}, Unit::gram, Fen(1299));
    });
    EXPECT_EQ(e.code(), ErrorCode::label_price_mismatch) << amount;
    EXPECT_EQ(e.details().at("label_fen"), std::to_string(amount));
    EXPECT_EQ(e.details().at("computed_fen"), "433");
  }
}

TEST(ResolveScaleLabel, WeightOnlyIsPricedHalfUpOnce) {
  // ¥9.90/kg × 1 234 g = 1221.66 → 1222; ¥1.00/kg × 1 005 g = 100.5 → 101 (half up).
  EXPECT_EQ(resolve_scale_label({1, std::nullopt, 1234}, Unit::gram, Fen(990)).total, Fen(1222));
  EXPECT_EQ(resolve_scale_label({1, std::nullopt, 1005}, Unit::gram, Fen(100)).total, Fen(101));
  EXPECT_EQ(resolve_scale_label({1, std::nullopt, 1005}, Unit::gram, Fen(100)).quantity,
            Quantity::grams(1005));
}

TEST(ResolveScaleLabel, AmountOnlyForAGramProductGivesTheWeightRoundedHalfUp) {
  // 3520 fen at ¥16.00/kg = 2200 g exactly.
  auto line = resolve_scale_label({10007, Fen(3520), std::nullopt}, Unit::gram, Fen(1600));
  EXPECT_EQ(line.quantity, Quantity::grams(2200));
  EXPECT_EQ(line.total, Fen(3520));
  // 1000 fen at ¥30.00/kg = 333.33 g → 333.
  EXPECT_EQ(resolve_scale_label({1, Fen(1000), std::nullopt}, Unit::gram, Fen(3000)).quantity,
            Quantity::grams(333));
  // 1 fen at ¥20.00/kg = 0.5 g → 1 g, and 3 fen = 1.5 g → 2 g (half up).
  EXPECT_EQ(resolve_scale_label({1, Fen(1), std::nullopt}, Unit::gram, Fen(2000)).quantity,
            Quantity::grams(1));
  EXPECT_EQ(resolve_scale_label({1, Fen(3), std::nullopt}, Unit::gram, Fen(2000)).quantity,
            Quantity::grams(2));
  // 2000 fen at ¥30.00/kg = 666.67 g → 667.
  line = resolve_scale_label({1, Fen(2000), std::nullopt}, Unit::gram, Fen(3000));
  EXPECT_EQ(line.quantity, Quantity::grams(667));
  EXPECT_EQ(line.total, Fen(2000));
}

TEST(ResolveScaleLabel, AmountOnlyBelowHalfAGramIsAMismatch) {
  // 1 fen at ¥20.01/kg = 0.49975 g → 0 g: no weight can be sold for it.
  const auto e = error_of([] {
    resolve_scale_label({1, Fen(1), std::nullopt}, Unit::gram, Fen(2001));
  });
  EXPECT_EQ(e.code(), ErrorCode::label_price_mismatch);
  EXPECT_EQ(e.details().at("label_fen"), "1");
}

TEST(ResolveScaleLabel, AmountOnlyForAPieceProductMustBeAWholeCount) {
  const auto line = resolve_scale_label({5, Fen(1500), std::nullopt}, Unit::piece, Fen(500));
  EXPECT_EQ(line.quantity, Quantity::pieces(3));
  EXPECT_EQ(line.total, Fen(1500));
  const auto e = error_of([] {
    resolve_scale_label({5, Fen(1600), std::nullopt}, Unit::piece, Fen(500));
  });
  EXPECT_EQ(e.code(), ErrorCode::label_price_mismatch);
  EXPECT_EQ(e.details().at("label_fen"), "1600");
  EXPECT_EQ(e.details().at("computed_fen"), "1500");
}

TEST(ResolveScaleLabel, AWeightLabelForAPieceProductIsRefused) {
  EXPECT_EQ(error_of([] {
              resolve_scale_label({5, std::nullopt, 500}, Unit::piece, Fen(500));
            }).code(),
            ErrorCode::invalid);
}

TEST(ResolveScaleLabel, AmountOnlyWithNoPriceIsAMismatch) {
  EXPECT_EQ(error_of([] {
              resolve_scale_label({5, Fen(100), std::nullopt}, Unit::gram, Fen(0));
            }).code(),
            ErrorCode::label_price_mismatch);
  EXPECT_EQ(error_of([] {
              resolve_scale_label({5, Fen(100), std::nullopt}, Unit::piece, Fen(0));
            }).code(),
            ErrorCode::label_price_mismatch);
}

TEST(ResolveScaleLabel, RandomWeightAndAmountLabelsAreAcceptedExactlyWithinOneFen) {
  std::mt19937_64 random(26);
  for (int round = 0; round < 5000; ++round) {
    const std::int64_t grams = static_cast<std::int64_t>(random() % 99999) + 1;
    const Fen price(static_cast<std::int64_t>(random() % 20000));
    // Independently: price × grams / 1000, half up.
    const std::int64_t exact = (price.value() * grams * 2 + 1000) / 2000;
    const std::int64_t offset = static_cast<std::int64_t>(random() % 7) - 3;
    const std::int64_t amount = exact + offset;
    if (amount < 0) continue;
    const ScaleLabel scanned{1, Fen(amount), grams};
    if (offset >= -1 && offset <= 1) {
      const auto line = resolve_scale_label(scanned, Unit::gram, price);
      EXPECT_EQ(line.total, Fen(amount));
      EXPECT_EQ(line.quantity, Quantity::grams(grams));
    } else {
      const auto e = error_of([&] { resolve_scale_label(scanned, Unit::gram, price); });
      EXPECT_EQ(e.code(), ErrorCode::label_price_mismatch);
      EXPECT_EQ(e.details().at("computed_fen"), std::to_string(exact));
    }
  }
}

TEST(ResolveScaleLabel, RandomAmountOnlyLabelsGiveTheNearestGram) {
  std::mt19937_64 random(210);
  for (int round = 0; round < 5000; ++round) {
    const std::int64_t amount = static_cast<std::int64_t>(random() % 99999) + 1;
    const std::int64_t price = static_cast<std::int64_t>(random() % 20000) + 1;
    const std::int64_t grams = (amount * 2000 + price) / (2 * price);
    if (grams < 1) {
      EXPECT_THROW(resolve_scale_label({1, Fen(amount), std::nullopt}, Unit::gram, Fen(price)),
                   Error);
      continue;
    }
    if (grams > kMaxGrams) continue;
    const auto line = resolve_scale_label({1, Fen(amount), std::nullopt}, Unit::gram, Fen(price));
    ASSERT_EQ(line.quantity, Quantity::grams(grams));
    // The nearest gram: one gram either way is no closer to the label's amount.
    const std::int64_t error = std::abs(grams * price - amount * 1000);
    EXPECT_LE(error, std::abs((grams + 1) * price - amount * 1000));
    EXPECT_LE(error, std::abs((grams - 1) * price - amount * 1000));
    EXPECT_EQ(line.total, Fen(amount));
  }
}

TEST(ResolveScaleLabel, ParsedReferenceLabelResolvesEndToEnd) {
  const auto parsed = parse_scale_label(label("26100070352002200"), kFormats);
  ASSERT_TRUE(parsed.has_value());
  const auto line = resolve_scale_label(*parsed, Unit::gram, Fen(1600));
  EXPECT_EQ(line.quantity, Quantity::grams(2200));
  EXPECT_EQ(line.total, Fen(3520));
}

}  // namespace
}  // namespace yizhan::domain
