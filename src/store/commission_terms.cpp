// Effective-dated commission terms in MariaDB.
#include "yizhan/store/commission_terms.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "rows.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

using Rows = std::unique_ptr<sql::ResultSet>;

// A term of the village, or of a product the village has now (a product that moved keeps its
// overrides, which follow it).
constexpr const char* kListTerms =
    "SELECT t.id, t.village_id, t.product_id, COALESCE(p.name, ''), t.bps, "
    "       DATE_FORMAT(t.effective_from, '%Y-%m-%d'), t.created_at, t.created_by, "
    "       t.created_by_name, t.note "
    "FROM commission_terms t LEFT JOIN products p ON p.id = t.product_id "
    "WHERE (t.product_id IS NULL AND t.village_id = ?) "
    "   OR t.product_id IN (SELECT id FROM products WHERE village_id = ?) "
    "ORDER BY t.effective_from DESC, t.id DESC";

// The latest term of each scope on or before the day: a term no later term of its scope beats.
constexpr const char* kTermsInForce =
    "SELECT t.village_id, t.product_id, t.bps FROM commission_terms t "
    "WHERE t.effective_from <= ? AND (? IS NULL OR t.village_id = ? OR t.product_id IN "
    "      (SELECT id FROM products WHERE village_id = ?)) "
    "  AND NOT EXISTS (SELECT 1 FROM commission_terms n "
    "      WHERE ((t.product_id IS NULL AND n.product_id IS NULL AND n.village_id = t.village_id) "
    "             OR n.product_id = t.product_id) AND n.effective_from <= ? "
    "        AND (n.effective_from > t.effective_from "
    "             OR (n.effective_from = t.effective_from AND n.id > t.id)))";

}  // namespace

std::vector<CommissionTermRecord> list_commission_terms(UnitOfWork& unit, std::int64_t village_id) {
  auto& statement = unit.statement(kListTerms);
  statement.setInt64(1, village_id);
  statement.setInt64(2, village_id);
  Rows rows(statement.executeQuery());
  std::vector<CommissionTermRecord> terms;
  while (rows->next()) {
    CommissionTermRecord t;
    t.id = rows->getInt64(1);
    t.village_id = rows->getInt64(2);
    t.product_id = optional_int64(*rows, 3);
    t.product_name = rows->getString(4);
    if (!rows->isNull(5)) t.bps = rows->getInt(5);
    t.effective_from = rows->getString(6);
    t.created_at_us = micros(*rows, 7);
    t.created_by = optional_int64(*rows, 8);
    t.created_by_name = rows->getString(9);
    t.note = rows->getString(10);
    terms.push_back(std::move(t));
  }
  return terms;
}

void insert_commission_term(UnitOfWork& unit, CommissionTermRecord& term) {
  auto& statement = unit.statement(
      "INSERT INTO commission_terms (village_id, product_id, bps, effective_from, created_by, "
      "created_by_name, note) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, created_at");
  statement.setInt64(1, term.village_id);
  if (term.product_id)
    statement.setInt64(2, *term.product_id);
  else
    statement.setNull(2, 0);
  if (term.bps)
    statement.setInt(3, *term.bps);
  else
    statement.setNull(3, 0);
  statement.setString(4, term.effective_from);
  if (term.created_by)
    statement.setInt64(5, *term.created_by);
  else
    statement.setNull(5, 0);
  statement.setString(6, term.created_by_name);
  statement.setString(7, term.note);
  Rows row(statement.executeQuery());
  row->next();
  term.id = row->getInt64(1);
  term.created_at_us = micros(*row, 2);
}

TermsInForce terms_in_force(UnitOfWork& unit, const std::string& day,
                            std::optional<std::int64_t> village_id) {
  auto& statement = unit.statement(kTermsInForce);
  statement.setString(1, day);
  for (int index : {2, 3, 4}) {
    if (village_id)
      statement.setInt64(index, *village_id);
    else
      statement.setNull(index, 0);
  }
  statement.setString(5, day);
  Rows rows(statement.executeQuery());
  TermsInForce terms;
  while (rows->next()) {
    const std::optional<int> bps =
        rows->isNull(3) ? std::nullopt : std::optional<int>(rows->getInt(3));
    if (rows->isNull(2)) {
      if (bps) terms.village_defaults[rows->getInt64(1)] = *bps;
    } else {
      terms.product_overrides[rows->getInt64(2)] = bps;
    }
  }
  return terms;
}

}  // namespace yizhan::store
