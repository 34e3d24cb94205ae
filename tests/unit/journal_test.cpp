// The double-entry journal: account codes and the postings of sales, refunds, cash movements
// and shift closes; every entry balances.
#include "yizhan/domain/journal.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {
namespace {

Tender tender_of(TenderMethod method, std::int64_t amount) {
  return {method, Fen(amount), std::nullopt, {}};
}

Fen posted_to(const std::vector<Posting>& postings, const std::string& account) {
  Fen sum;
  for (const auto& posting : postings) {
    if (posting.account == account) sum += posting.amount;
  }
  return sum;
}

TEST(Journal, AccountCodes) {
  EXPECT_EQ(cash_drawer_account(3), "cash_drawer:3");
  EXPECT_EQ(tender_clearing_account(TenderMethod::wechat), "tender_clearing:wechat");
  EXPECT_EQ(tender_clearing_account(TenderMethod::alipay_code), "tender_clearing:alipay_code");
  EXPECT_EQ(village_payable_account(12), "village_payable:12");
  EXPECT_EQ(tender_account(TenderMethod::cash, 3), "cash_drawer:3");
  EXPECT_EQ(tender_account(TenderMethod::card, 3), "tender_clearing:card");
  EXPECT_STREQ(kCommissionIncome, "commission_income");
  EXPECT_STREQ(kCashOverShort, "cash_over_short");
  EXPECT_STREQ(kStationCash, "station_cash");
}

TEST(Journal, CashHasNoClearingAccount) {
  try {
    tender_clearing_account(TenderMethod::cash);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
  }
}

TEST(Journal, BalancesIsTrueOnlyWhenPostingsSumToZero) {
  EXPECT_TRUE(balances(std::vector<Posting>{}));
  EXPECT_TRUE(balances(std::vector<Posting>{{"a", Fen(5)}, {"b", Fen(-5)}}));
  EXPECT_FALSE(balances(std::vector<Posting>{{"a", Fen(5)}, {"b", Fen(-4)}}));
  // No overflow on the way to zero.
  EXPECT_TRUE(balances(std::vector<Posting>{{"a", Fen(INT64_MAX)},
                                            {"b", Fen(INT64_MAX)},
                                            {"c", Fen(-INT64_MAX)},
                                            {"d", Fen(-INT64_MAX)}}));
}

TEST(Journal, ASaleDebitsTendersAndCreditsVillagesAndCommission) {
  const std::vector<Tender> tenders{tender_of(TenderMethod::cash, 1230),
                                    tender_of(TenderMethod::wechat, 1000)};
  const std::vector<VillageSplit> lines{
      {7, Fen(80), Fen(920)}, {9, Fen(50), Fen(780)}, {7, Fen(30), Fen(370)}};
  const auto postings = sale_postings(2, tenders, lines);
  EXPECT_EQ(postings, (std::vector<Posting>{{"cash_drawer:2", Fen(1230)},
                                            {"tender_clearing:wechat", Fen(1000)},
                                            {"village_payable:7", Fen(-1290)},
                                            {"village_payable:9", Fen(-780)},
                                            {"commission_income", Fen(-160)}}));
  EXPECT_TRUE(balances(postings));
}

TEST(Journal, ASaleMergesTendersOfOneMethodAndDropsZeros) {
  const std::vector<Tender> tenders{tender_of(TenderMethod::alipay, 600),
                                    tender_of(TenderMethod::alipay, 400)};
  const std::vector<VillageSplit> lines{{4, Fen(0), Fen(1000)}};
  const auto postings = sale_postings(1, tenders, lines);
  EXPECT_EQ(postings, (std::vector<Posting>{{"tender_clearing:alipay", Fen(1000)},
                                            {"village_payable:4", Fen(-1000)}}));
}

TEST(Journal, AZeroSaleHasNoPostings) {
  const std::vector<VillageSplit> lines{{4, Fen(0), Fen(0)}};
  EXPECT_TRUE(sale_postings(1, {}, lines).empty());
}

TEST(Journal, ASaleWhoseTendersDoNotCoverItIsAnInternalError) {
  const std::vector<Tender> tenders{tender_of(TenderMethod::card, 999)};
  const std::vector<VillageSplit> lines{{4, Fen(100), Fen(900)}};
  try {
    sale_postings(1, tenders, lines);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
  }
}

TEST(Journal, ARefundIsTheExactReverseOfASalePaidByItsMethod) {
  const std::vector<VillageSplit> lines{{7, Fen(80), Fen(920)}, {9, Fen(50), Fen(780)}};
  const auto refund = refund_postings(2, TenderMethod::cash, lines);
  EXPECT_EQ(refund, (std::vector<Posting>{{"cash_drawer:2", Fen(-1830)},
                                          {"village_payable:7", Fen(920)},
                                          {"village_payable:9", Fen(780)},
                                          {"commission_income", Fen(130)}}));
  const std::vector<Tender> paid{tender_of(TenderMethod::cash, 1830)};
  auto sale = sale_postings(2, paid, lines);
  for (auto& posting : sale)
    posting.amount = -posting.amount;
  EXPECT_EQ(refund, sale);
}

TEST(Journal, ARefundToWechatDebitsItsClearingAccount) {
  const std::vector<VillageSplit> lines{{7, Fen(8), Fen(92)}};
  const auto refund = refund_postings(2, TenderMethod::wechat, lines);
  EXPECT_EQ(posted_to(refund, "tender_clearing:wechat"), Fen(-100));
  EXPECT_TRUE(balances(refund));
}

TEST(Journal, CashMovementsMoveMoneyBetweenDrawerAndStationCash) {
  EXPECT_EQ(cash_movement_postings(5, Fen(20000)),
            (std::vector<Posting>{{"cash_drawer:5", Fen(20000)}, {"station_cash", Fen(-20000)}}));
  EXPECT_EQ(cash_movement_postings(5, Fen(-3000)),
            (std::vector<Posting>{{"cash_drawer:5", Fen(-3000)}, {"station_cash", Fen(3000)}}));
  EXPECT_TRUE(cash_movement_postings(5, Fen(0)).empty());
}

TEST(Journal, ARefundTheProviderEndsUnpaidGoesBackToItsClearingAndIsOwedUntilRepaidInCash) {
  // Booked as given back through WeChat (credit its clearing), then ended CLOSED, then repaid.
  std::vector<Posting> all = refund_postings(2, TenderMethod::wechat_code,
                                             std::vector<VillageSplit>{{3, Fen(150), Fen(1350)}});
  const auto failed = refund_failed_postings(TenderMethod::wechat_code, Fen(1500));
  EXPECT_EQ(failed, (std::vector<Posting>{{"tender_clearing:wechat_code", Fen(1500)},
                                          {"refunds_owed", Fen(-1500)}}));
  all.insert(all.end(), failed.begin(), failed.end());
  const auto repaid = refund_repaid_postings(2, Fen(1500));
  EXPECT_EQ(repaid,
            (std::vector<Posting>{{"refunds_owed", Fen(1500)}, {"cash_drawer:2", Fen(-1500)}}));
  all.insert(all.end(), repaid.begin(), repaid.end());
  EXPECT_EQ(posted_to(all, "tender_clearing:wechat_code"), Fen(0)) << "the provider kept it";
  EXPECT_EQ(posted_to(all, "refunds_owed"), Fen(0)) << "nothing owed once repaid";
  EXPECT_EQ(posted_to(all, "cash_drawer:2"), Fen(-1500)) << "the drawer paid it";
  EXPECT_TRUE(balances(all));
  EXPECT_TRUE(refund_failed_postings(TenderMethod::alipay_code, Fen(0)).empty());
  EXPECT_THROW((void)refund_failed_postings(TenderMethod::cash, Fen(100)), Error);
}

TEST(Journal, ShiftCloseWithExactCountEmptiesTheDrawer) {
  EXPECT_EQ(shift_close_postings(5, Fen(45600), Fen(45600)),
            (std::vector<Posting>{{"station_cash", Fen(45600)}, {"cash_drawer:5", Fen(-45600)}}));
}

TEST(Journal, ShiftCloseOverIsACreditToCashOverShort) {
  const auto postings = shift_close_postings(5, Fen(45600), Fen(45700));
  EXPECT_EQ(postings, (std::vector<Posting>{{"station_cash", Fen(45700)},
                                            {"cash_drawer:5", Fen(-45600)},
                                            {"cash_over_short", Fen(-100)}}));
}

TEST(Journal, ShiftCloseShortIsADebitToCashOverShort) {
  const auto postings = shift_close_postings(5, Fen(45600), Fen(45550));
  EXPECT_EQ(postings, (std::vector<Posting>{{"station_cash", Fen(45550)},
                                            {"cash_drawer:5", Fen(-45600)},
                                            {"cash_over_short", Fen(50)}}));
}

TEST(Journal, AShiftLeavesItsDrawerAtZero) {
  // Float, a cash sale, a cash refund, a pay-out, then a close with a short count.
  std::vector<Posting> all;
  const auto append = [&all](const std::vector<Posting>& entry) {
    EXPECT_TRUE(balances(entry));
    all.insert(all.end(), entry.begin(), entry.end());
  };
  append(cash_movement_postings(1, Fen(20000)));
  const std::vector<Tender> paid{tender_of(TenderMethod::cash, 1500)};
  const std::vector<VillageSplit> lines{{3, Fen(150), Fen(1350)}};
  append(sale_postings(1, paid, lines));
  const std::vector<VillageSplit> returned{{3, Fen(50), Fen(450)}};
  append(refund_postings(1, TenderMethod::cash, returned));
  append(cash_movement_postings(1, Fen(-2000)));
  const Fen expected = posted_to(all, "cash_drawer:1");
  EXPECT_EQ(expected, Fen(19000));
  append(shift_close_postings(1, expected, Fen(18990)));
  EXPECT_EQ(posted_to(all, "cash_drawer:1"), Fen(0));
  EXPECT_EQ(posted_to(all, "cash_over_short"), Fen(10));
  EXPECT_EQ(posted_to(all, "village_payable:3"), Fen(-900));
  EXPECT_EQ(posted_to(all, "commission_income"), Fen(-100));
  EXPECT_TRUE(balances(all));
}

TEST(Journal, RandomSalesAndRefundsAlwaysBalance) {
  std::mt19937_64 random(99);
  const TenderMethod methods[] = {
      TenderMethod::cash,  TenderMethod::wechat,      TenderMethod::alipay,     TenderMethod::card,
      TenderMethod::other, TenderMethod::wechat_code, TenderMethod::alipay_code};
  for (int round = 0; round < 5000; ++round) {
    std::vector<VillageSplit> lines(random() % 6 + 1);
    Fen total;
    for (auto& line : lines) {
      line.village_id = static_cast<std::int64_t>(random() % 4) + 1;
      const auto split = commission(Fen(static_cast<std::int64_t>(random() % 100000)),
                                    static_cast<int>(random() % 10001));
      line.fee = split.fee;
      line.share = split.share;
      total += line.fee + line.share;
    }
    // Split the total over up to three tenders.
    std::vector<Tender> tenders;
    Fen left = total;
    const int count = static_cast<int>(random() % 3) + 1;
    for (int i = 0; i < count && left > Fen(0); ++i) {
      const Fen amount =
          i + 1 == count
              ? left
              : Fen(static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(left.value())) +
                    1);
      tenders.push_back(tender_of(methods[random() % 7], amount.value()));
      left -= amount;
    }
    const auto sale = sale_postings(static_cast<std::int64_t>(random() % 3) + 1, tenders, lines);
    ASSERT_TRUE(balances(sale));
    std::vector<std::string> accounts;
    for (const auto& posting : sale) {
      EXPECT_NE(posting.amount, Fen(0));
      for (const auto& seen : accounts)
        EXPECT_NE(seen, posting.account);
      accounts.push_back(posting.account);
    }
    const auto refund = refund_postings(1, methods[random() % 7], lines);
    ASSERT_TRUE(balances(refund));
    Fen debits;
    for (const auto& posting : refund) {
      if (posting.amount > Fen(0)) debits += posting.amount;
    }
    EXPECT_EQ(debits, total);
  }
}

TEST(Journal, ASaleRefundedInRandomPartsLeavesEveryAccountAtZero) {
  // Price a sale, post it paid by one method, refund each line in random parts by the same
  // method: every account's postings sum back to zero, and each refund entry balances.
  std::mt19937_64 random(808);
  const TenderMethod methods[] = {TenderMethod::cash, TenderMethod::wechat, TenderMethod::alipay};
  for (int round = 0; round < 2000; ++round) {
    std::vector<SaleLineInput> inputs(random() % 5 + 1);
    std::vector<std::int64_t> villages;
    for (auto& input : inputs) {
      input.quantity = random() % 2 == 0
                           ? Quantity::pieces(static_cast<std::int64_t>(random() % 12) + 1)
                           : Quantity::grams(static_cast<std::int64_t>(random() % 3000) + 1);
      input.unit_price = Fen(static_cast<std::int64_t>(random() % 5000) + 1);
      input.commission_bps = static_cast<int>(random() % 3001);
      villages.push_back(static_cast<std::int64_t>(random() % 3) + 1);
    }
    Fen subtotal;
    for (const auto& input : inputs)
      subtotal += line_total(input.unit_price, input.quantity);
    const Fen discount(static_cast<std::int64_t>(random() % 50) % (subtotal.value() + 1));
    const auto sale =
        price_sale(inputs, discount, random() % 2 == 0 ? Rounding::jiao : Rounding::yuan);
    std::vector<VillageSplit> splits;
    for (std::size_t i = 0; i < sale.lines.size(); ++i)
      splits.push_back({villages[i], sale.lines[i].split.fee, sale.lines[i].split.share});
    const TenderMethod method = methods[random() % 3];
    std::vector<Tender> tenders;
    if (sale.total > Fen(0)) tenders.push_back(tender_of(method, sale.total.value()));

    std::map<std::string, Fen> accounts;
    const auto book = [&accounts](const std::vector<Posting>& entry) {
      ASSERT_TRUE(balances(entry));
      for (const auto& posting : entry)
        accounts[posting.account] += posting.amount;
    };
    book(sale_postings(4, tenders, splits));
    std::vector<LineAmounts> refunded(sale.lines.size());
    bool left = true;
    while (left) {
      left = false;
      std::vector<VillageSplit> parts;
      for (std::size_t i = 0; i < sale.lines.size(); ++i) {
        const LineAmounts line{inputs[i].quantity.amount(), sale.lines[i].gross,
                               sale.lines[i].split.fee, sale.lines[i].split.share};
        const std::int64_t remaining = line.quantity - refunded[i].quantity;
        if (remaining == 0 || random() % 2 == 0) {
          left = left || remaining > 0;
          continue;
        }
        const std::int64_t q =
            static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(remaining)) + 1;
        const auto part = refund_part(line, refunded[i], q);
        refunded[i] = {refunded[i].quantity + q, refunded[i].gross + part.gross,
                       refunded[i].fee + part.fee, refunded[i].share + part.share};
        parts.push_back({villages[i], part.fee, part.share});
        left = left || refunded[i].quantity < line.quantity;
      }
      if (!parts.empty()) book(refund_postings(4, method, parts));
    }
    for (const auto& [account, sum] : accounts)
      EXPECT_EQ(sum, Fen(0)) << account;
  }
}

}  // namespace
}  // namespace yizhan::domain
