// Catalog rules: who sees and buys a product, EAN-13 check digits, units, field limits, image
// signatures.
#include <gtest/gtest.h>

#include "support/sample_images.hpp"
#include "yizhan/domain/catalog.hpp"

using namespace yizhan::domain;
using yizhan::test_support::kJpeg;
using yizhan::test_support::kPng;
using yizhan::test_support::kWebp;

TEST(Visibility, OnlineNeedsActiveOnlineAndAnActiveVillage) {
  EXPECT_TRUE(is_offered({true, true, true}, Channel::online));
  EXPECT_FALSE(is_offered({false, true, true}, Channel::online)) << "delisted";
  EXPECT_FALSE(is_offered({true, false, true}, Channel::online)) << "not shown online";
  EXPECT_FALSE(is_offered({true, true, false}, Channel::online)) << "village left";
}

TEST(Visibility, TheCounterSellsOfflineProductsButNeverDelistedOnes) {
  EXPECT_TRUE(is_offered({true, true, true}, Channel::counter));
  EXPECT_TRUE(is_offered({true, false, true}, Channel::counter)) << "in the shop only";
  EXPECT_FALSE(is_offered({false, true, true}, Channel::counter)) << "delisted: not by scanning";
  EXPECT_FALSE(is_offered({true, true, false}, Channel::counter)) << "village left";
}

TEST(Visibility, TheStoreFilterAgreesWithTheRuleForEveryCombination) {
  // Store queries filter on listing_requirement; it must say exactly what is_offered says.
  for (const auto channel : {Channel::counter, Channel::online}) {
    const auto required = listing_requirement(channel);
    for (int bits = 0; bits < 8; ++bits) {
      const Listing listing{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0};
      const bool filter = (listing.active || !required.active) &&
                          (listing.online || !required.online) &&
                          (listing.village_active || !required.village_active);
      EXPECT_EQ(filter, is_offered(listing, channel)) << bits;
    }
  }
}

TEST(Ean13, ComputesAndChecksTheCheckDigit) {
  EXPECT_EQ(ean13_check_digit("400638133393"), 1);  // 4006381333931, a well-known example
  EXPECT_EQ(ean13_check_digit("690123456789"), 2);
  EXPECT_FALSE(ean13_problem("4006381333931"));
  EXPECT_TRUE(ean13_problem("4006381333932"));
  EXPECT_TRUE(ean13_problem("400638133393"));
  EXPECT_TRUE(ean13_problem("40063813339311"));
  EXPECT_TRUE(ean13_problem("40063813339a1"));
  for (int d = 0; d <= 9; ++d) {
    const std::string code = "690123456789" + std::to_string(d);
    EXPECT_EQ(!ean13_problem(code), d == 2) << code;
  }
}

TEST(Units, PieceAndGramOnly) {
  EXPECT_EQ(parse_unit("piece"), Unit::piece);
  EXPECT_EQ(parse_unit("g"), Unit::gram);
  EXPECT_FALSE(parse_unit("kg"));
  EXPECT_EQ(to_string(Unit::gram), "g");
}

TEST(Fields, TextIsCountedInCharactersNotBytes) {
  EXPECT_EQ(character_count("土笋冻"), 3u);
  std::string hundred_characters;
  for (int i = 0; i < 100; ++i)
    hundred_characters += "茶";  // 300 bytes
  EXPECT_FALSE(text_problem(hundred_characters, 1, 100));
  EXPECT_TRUE(text_problem(hundred_characters + "茶", 1, 100));
  EXPECT_TRUE(text_problem("", 1, 100));
  EXPECT_TRUE(text_problem(std::string(101, 'a'), 1, 100));
  EXPECT_TRUE(text_problem(std::string(100, 'a') + "  ", 1, 100))
      << "blanks count towards the stored length";
  EXPECT_TRUE(text_problem(std::string("铁观音\0茶", 10), 1, 100)) << "NUL";
  EXPECT_TRUE(text_problem("铁观音\x1b[2J", 1, 100)) << "an escape sequence";
  EXPECT_TRUE(text_problem("a\x7f", 1, 100)) << "DEL";
  EXPECT_FALSE(text_problem("第一行\n第二行\t完", 1, 100)) << "line breaks and tabs are text";
  // The probe's F17: a name that reads backwards on a receipt or in a CSV.
  for (const char* hidden : {"\u202E"
                             "evil",
                             "a\u202Ab", "a\u202Db", "x\u2066y\u2069", "\u2067x", "\u2068x",
                             "a\u200Fb", "a\u200Eb", "a\u061Cb", "a\u0085b", "a\u009Fb", "a\u0080"})
    EXPECT_TRUE(text_problem(hidden, 1, 100)) << hidden;
  // Their neighbours are ordinary text: en dash, bullet, ellipsis, zero-width joiner of emoji,
  // U+2065 (unassigned), U+206A, Arabic letters, Latin-1.
  for (const char* fine : {"a\u2013b", "a\u2022b", "\u2026", "\U0001F468\u200D\U0001F33E",
                           "a\u2065", "a\u206A", "\u0627\u0644", "caf\u00E9 \u00A0\u00BF"})
    EXPECT_FALSE(text_problem(fine, 1, 100)) << fine;
}

// Probe 2's P6: a name, an address or a waybill of spaces only was accepted.
TEST(Fields, ARequiredTextNeedsSomethingVisible) {
  for (const char* blank : {" ", "   ", "\t\n", "\u3000", "\u3000 \u3000", "\u200B", "\u200C\u200D",
                            "\uFEFF", " \u200B\u3000\r\n"})
    EXPECT_EQ(text_problem(blank, 1, 100), "is required") << blank;
  EXPECT_FALSE(text_problem("   ", 0, 100)) << "optional text may be blank";
  EXPECT_FALSE(text_problem(" 张三\u3000", 1, 100)) << "blanks around a name are fine";
  EXPECT_EQ(text_problem(" a ", 2, 100), "is too short") << "blanks do not count";
  EXPECT_EQ(trim_blanks("\u200B 安海镇\u3000\t"), "安海镇");
  EXPECT_EQ(trim_blanks("\u3000"), "");
  EXPECT_EQ(trim_blanks("a \u00A0"), "a \u00A0") << "a no-break space is not trimmed";
}

TEST(Fields, OneLineFieldsRefuseLineBreaksAndTabs) {
  EXPECT_FALSE(line_problem("顺丰 SF123", 1, 50));
  for (const char* broken : {"a\nb", "a\tb", "a\rb", "\n=1+1", "\t=1"})
    EXPECT_TRUE(line_problem(broken, 1, 50)) << broken;
  EXPECT_EQ(line_problem("\u3000", 1, 50), "is required");
  EXPECT_TRUE(line_problem("a\x1b", 1, 50)) << "control characters as text_problem";
}

TEST(Fields, PricesCommissionsShelfLife) {
  EXPECT_TRUE(price_problem(Fen(0)));
  EXPECT_TRUE(price_problem(Fen(-100)));
  EXPECT_FALSE(price_problem(Fen(1)));
  EXPECT_FALSE(price_problem(kMaxPrice));
  EXPECT_TRUE(price_problem(kMaxPrice + Fen(1)));
  EXPECT_FALSE(commission_problem(0));
  EXPECT_FALSE(commission_problem(10000));
  EXPECT_TRUE(commission_problem(10001));
  EXPECT_TRUE(shelf_life_problem(0));
  EXPECT_FALSE(sku_problem("YZ-1001"));
  EXPECT_TRUE(sku_problem("YZ 1001"));
  EXPECT_FALSE(village_code_problem("xingcuo"));
  EXPECT_TRUE(village_code_problem("Xingcuo"));
}

TEST(Images, JudgedByTheirBytes) {
  EXPECT_EQ(sniff_image_type(std::string("\xFF\xD8\xFF\xE0", 4)), "image/jpeg");
  EXPECT_EQ(sniff_image_type(std::string("\x89PNG\r\n\x1A\n", 8)), "image/png");
  EXPECT_EQ(sniff_image_type(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)), "image/webp");
  EXPECT_FALSE(sniff_image_type("GIF89a"));
  EXPECT_FALSE(sniff_image_type("<svg xmlns='http://www.w3.org/2000/svg'/>"));
  EXPECT_FALSE(sniff_image_type(""));
  EXPECT_EQ(image_extension("image/webp"), "webp");
}

TEST(Images, WholeImagesPass) {
  EXPECT_EQ(image_problem(kPng, "image/png"), std::nullopt);
  EXPECT_EQ(image_problem(kJpeg, "image/jpeg"), std::nullopt);
  EXPECT_EQ(image_problem(kWebp, "image/webp"), std::nullopt);
  // Phones append data after a JPEG's end (motion photos): it is not read.
  EXPECT_EQ(image_problem(kJpeg + "trailer", "image/jpeg"), std::nullopt);
  // Restart markers and stuffed 0xFF bytes inside a scan are part of it.
  auto restarts = kJpeg;
  restarts.insert(restarts.size() - 2, std::string("\xFF\x00\xFF\xD0\x12", 5));
  EXPECT_EQ(image_problem(restarts, "image/jpeg"), std::nullopt);
}

/// `whole` with the bytes from `at` replaced by `with` (and the rest kept).
std::string patched(std::string whole, std::size_t at, const std::string& with) {
  whole.replace(at, with.size(), with);
  return whole;
}

// Probe F11: the signature alone, or a signature in front of anything, became the photo.
TEST(Images, SignaturesAloneAndCutOrDamagedFilesAreRefused) {
  const std::string png_signature("\x89PNG\r\n\x1A\n", 8);
  for (const auto& png : {png_signature, png_signature + std::string(64, '\0'),
                          kPng.substr(0, 33),                       // IHDR and nothing more
                          kPng.substr(0, kPng.size() - 12),         // no IEND
                          kPng.substr(0, 40),                       // cut inside IDAT
                          patched(kPng, 45, std::string(1, '\0')),  // IDAT's data changed: CRC
                          patched(kPng, 29, std::string(1, '\0')),  // IHDR's CRC
                          kPng + "<html>",                          // something after IEND
                          patched(kPng, 24, "\x07"),                // bit depth 7
                          patched(kPng, 12, "IDAT")})               // no IHDR first
    EXPECT_TRUE(image_problem(png, "image/png")) << testing::PrintToString(png);
  // A header claiming 20000 × 20000 with its CRC right: too large whole, and cut off.
  std::string huge = kPng;
  huge.replace(16, 8, std::string("\x00\x00\x4E\x20\x00\x00\x4E\x20", 8));
  huge.replace(29, 4, "\x6C\x12\xD1\x6E");
  EXPECT_TRUE(image_problem(huge, "image/png"));
  EXPECT_TRUE(image_problem(huge.substr(0, 33), "image/png"));

  for (const auto& jpeg :
       {std::string("\xFF\xD8\xFF", 3), std::string("\xFF\xD8\xFF<script>alert(1)</script>"),
        std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00<html>",
                    26),
        kJpeg.substr(0, kJpeg.size() - 2),         // no end of image
        kJpeg.substr(0, 80),                       // cut in the quantisation table
        patched(kJpeg, 76, std::string(2, '\0')),  // height 0 (the frame header is at 71)
        patched(kJpeg, 76, "\xFF\xFF\xFF\xFF"),    // 65535 × 65535
        patched(kJpeg, 2, "\xFF\xD9")})            // ends before any frame
    EXPECT_TRUE(image_problem(jpeg, "image/jpeg")) << testing::PrintToString(jpeg);

  for (const auto& webp :
       {std::string("RIFF\x04\0\0\0WEBP", 12), std::string("RIFF\x10\0\0\0WEBPVP8 ", 16),
        kWebp.substr(0, kWebp.size() - 4),         // shorter than its RIFF size
        patched(kWebp, 20, std::string(1, '\0')),  // no lossless signature
        patched(kWebp, 12, "VP8X")})               // an extended header too short
    EXPECT_TRUE(image_problem(webp, "image/webp")) << testing::PrintToString(webp);
}
