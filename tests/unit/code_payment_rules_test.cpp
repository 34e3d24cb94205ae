// Counter 付款码 rules (domain only): which code fits which tender, masking, and the
// out_trade_no derived from the sale's Idempotency-Key.
#include <gtest/gtest.h>

#include <cctype>
#include <set>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/order.hpp"
#include "yizhan/domain/sale.hpp"

using namespace yizhan::domain;

TEST(PaymentCodes, WechatIs18DigitsStarting10To15AndAlipay16To24Starting25To30) {
  EXPECT_EQ(classify_payment_code("134567890123456789"), PaymentCodeKind::wechat);
  EXPECT_EQ(classify_payment_code("104567890123456789"), PaymentCodeKind::wechat);
  EXPECT_EQ(classify_payment_code("154567890123456789"), PaymentCodeKind::wechat);
  EXPECT_EQ(classify_payment_code("164567890123456789"), PaymentCodeKind::unknown);
  EXPECT_EQ(classify_payment_code("13456789012345678"), PaymentCodeKind::unknown) << "17 digits";
  EXPECT_EQ(classify_payment_code("2512345678901234"), PaymentCodeKind::alipay) << "16 digits";
  EXPECT_EQ(classify_payment_code("301234567890123456789012"), PaymentCodeKind::alipay);
  EXPECT_EQ(classify_payment_code("3012345678901234567890123"), PaymentCodeKind::unknown)
      << "25 digits";
  EXPECT_EQ(classify_payment_code("241234567890123456"), PaymentCodeKind::unknown);
  EXPECT_EQ(classify_payment_code("28123456789012345a"), PaymentCodeKind::unknown);
  EXPECT_EQ(classify_payment_code(""), PaymentCodeKind::unknown);
}

TEST(PaymentCodes, EachTenderTakesOnlyItsProvidersCode) {
  EXPECT_FALSE(payment_code_problem(TenderMethod::wechat_code, "134567890123456789"));
  EXPECT_FALSE(payment_code_problem(TenderMethod::alipay_code, "281234567890123456"));
  const auto swapped = payment_code_problem(TenderMethod::wechat_code, "281234567890123456");
  ASSERT_TRUE(swapped);
  EXPECT_NE(swapped->find("支付宝"), std::string::npos) << *swapped;
  EXPECT_TRUE(payment_code_problem(TenderMethod::alipay_code, "134567890123456789"));
  EXPECT_TRUE(payment_code_problem(TenderMethod::wechat_code, "12345"));
  EXPECT_TRUE(payment_code_problem(TenderMethod::cash, "134567890123456789"));
  // An 18-digit scale label with flag 26 has an Alipay code's shape: the step decides.
  EXPECT_FALSE(payment_code_problem(TenderMethod::alipay_code, "260000101234005008"));
  EXPECT_TRUE(is_code_method(TenderMethod::wechat_code));
  EXPECT_TRUE(is_code_method(TenderMethod::alipay_code));
  EXPECT_FALSE(is_code_method(TenderMethod::wechat));
}

TEST(PaymentCodes, AMaskedCodeKeepsFourDigitsEachSide) {
  EXPECT_EQ(mask_payment_code("134567890123456789"), "1345**********6789");
  EXPECT_EQ(mask_payment_code("2512345678901234"), "2512********1234");
  EXPECT_EQ(mask_payment_code("12345678"), "********");
  EXPECT_EQ(mask_payment_code(""), "");
}

TEST(CodeTradeNumber, IsFixedByKeyTenderAndAttemptAndFitsWechat) {
  const std::string digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  EXPECT_EQ(code_trade_number(digest, 0, 1), "Y0123456789abcdef01234567-0-01");
  EXPECT_EQ(code_trade_number(digest, 0, 1), code_trade_number(digest, 0, 1));
  std::set<std::string> seen;
  for (std::size_t tender = 0; tender < 10; ++tender)
    for (int attempt = 1; attempt <= 99; ++attempt) {
      const auto number = code_trade_number(digest, tender, attempt);
      EXPECT_LE(number.size(), 32u);
      for (const char c : number)
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-');
      seen.insert(number);
    }
  EXPECT_EQ(seen.size(), 990u) << "every tender and attempt its own number";
  EXPECT_NE(code_trade_number("f" + digest.substr(1), 0, 1), code_trade_number(digest, 0, 1));
  EXPECT_THROW(code_trade_number(digest, 10, 1), Error);
  EXPECT_THROW(code_trade_number(digest, 0, 0), Error);
  EXPECT_THROW(code_trade_number(digest, 0, 100), Error);
  EXPECT_THROW(code_trade_number("abc", 0, 1), Error);
}

TEST(CodeRefundNumber, IsTheKeysDigestAndTheAttemptWithinWhatProvidersAllowAndNeverATradeNumber) {
  const std::string digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  EXPECT_EQ(code_refund_number(digest, 1), "R0123456789abcdef01234567-01");
  EXPECT_EQ(code_refund_number(digest, 99), "R0123456789abcdef01234567-99");
  std::set<std::string> seen;
  for (int attempt = 1; attempt <= 99; ++attempt) {
    const auto number = code_refund_number(digest, attempt);
    EXPECT_LE(number.size(), 32u);  // code_refunds.out_refund_no; WeChat and Alipay allow 64
    EXPECT_NE(number.front(), code_trade_number(digest, 0, attempt).front());
    seen.insert(number);
  }
  EXPECT_EQ(seen.size(), 99u);
  EXPECT_THROW(code_refund_number(digest, 0), Error);
  EXPECT_THROW(code_refund_number(digest, 100), Error);
  EXPECT_THROW(code_refund_number("abc", 1), Error);
}
