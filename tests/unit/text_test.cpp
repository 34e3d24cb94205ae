// UTF-8 rules: validity and cuts by characters, never inside a multi-byte sequence.
#include <gtest/gtest.h>

#include "yizhan/domain/text.hpp"

using namespace yizhan::domain;

TEST(Utf8, WellFormedTextIsValidAndIllFormedIsNot) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("cashier1"));
  EXPECT_TRUE(is_valid_utf8("安海驿站 tea 🍵"));
  EXPECT_FALSE(is_valid_utf8("\xE5\xAE"));          // a hanzi cut short
  EXPECT_FALSE(is_valid_utf8("\xAE\x89"));          // continuation bytes alone
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong, three bytes
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // a UTF-16 surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(Utf8, CutsCountCharactersNotBytes) {
  const std::string hanzi = "安海镇乡村联盟驿站";  // 9 characters, 27 bytes
  EXPECT_EQ(count_characters(hanzi), 9u);
  EXPECT_EQ(truncate_characters(hanzi, 2), "安海");
  EXPECT_EQ(truncate_characters(hanzi, 9), hanzi);
  EXPECT_EQ(truncate_characters(hanzi, 100), hanzi);
  EXPECT_EQ(truncate_characters("a🍵b", 2), "a🍵");
  EXPECT_EQ(truncate_characters("abc", 0), "");
}

TEST(Utf8, ASixtyFourCharacterCutOfHanziStaysWhole) {
  // The login bug: 22 hanzi are 66 bytes; a 64-byte cut ends inside the 22nd.
  std::string name;
  for (int i = 0; i < 70; ++i)
    name += "驿";
  const auto cut = truncate_characters(name, 64);
  EXPECT_EQ(count_characters(cut), 64u);
  EXPECT_EQ(cut.size(), 64u * 3);
  EXPECT_TRUE(is_valid_utf8(cut));
  EXPECT_FALSE(is_valid_utf8(name.substr(0, 64))) << "what a byte cut did";
}

TEST(Utf8, StorableTextReplacesIllFormedBytesThenCuts) {
  EXPECT_EQ(replace_invalid_utf8("a\xFF"
                                 "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(replace_invalid_utf8("驿\xE7\xAB"), "驿\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(storable_text("驿站\xFF驿站", 3), "驿站\xEF\xBF\xBD");
  EXPECT_TRUE(is_valid_utf8(storable_text("\xC0\xAF\xED\xA0\x80 x", 64)));
}
