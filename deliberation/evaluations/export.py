"""Export of published evaluations for the street office: CSV (UTF-8 with BOM, for Excel) and XLSX.

The headers are Chinese whatever the interface language: the reports go to Chinese authorities.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import timedelta

from openpyxl import Workbook
from openpyxl.styles import Font

from deliberation.core import audit_stamp
from deliberation.core.text import spreadsheet_cell
from deliberation.evaluations.models import Evaluation, EvaluationStatus, OrganisationKind
from deliberation.evaluations.scoring import Grade

HEADERS = ["社区", "组织名称", "组织类型", "服务小区", "评价期间", "版本", "状态", "居民满意度（百分制）", "满意度权重",
           "问卷答卷数", "可参与居民数", "各项得分", "总分", "等级", "发布时间（北京时间）", "更正原因", "评价意见"]
SCORE_HEADERS = ["组织名称", "评价期间", "版本", "部分", "评价指标", "权重", "得分"]
KIND_ZH = {OrganisationKind.property_firm: "物业服务企业", OrganisationKind.owner_committee: "业主委员会"}
GRADE_ZH = {Grade.excellent: "优秀", Grade.good: "良好", Grade.passing: "合格", Grade.failing: "不合格"}
STATUS_ZH = {EvaluationStatus.published: "已发布", EvaluationStatus.superseded: "已被更正版本取代"}
PART_ZH = {"management": "管理评价", "comprehensive": "综合评价"}
BEIJING = timedelta(hours=8)


def _row(evaluation: Evaluation, community_name: str) -> list:
    organisation = evaluation.organisation
    criteria = {c.id: c for c in evaluation.rubric.criteria}
    scores = "；".join(f"{criteria[s.criterion_id].name} {s.score}" for s in
                      sorted(evaluation.scores, key=lambda s: criteria[s.criterion_id].position))
    published = (evaluation.published_at + BEIJING).strftime("%Y-%m-%d %H:%M") if evaluation.published_at else ""
    return [community_name, organisation.name, KIND_ZH[organisation.kind], organisation.estate_names,
            evaluation.period, evaluation.version, STATUS_ZH.get(evaluation.status, evaluation.status.value),
            evaluation.satisfaction_score, evaluation.rubric.satisfaction_weight, evaluation.survey_responses,
            evaluation.survey_eligible, scores, evaluation.total, GRADE_ZH.get(evaluation.grade, ""), published,
            evaluation.correction_reason or "", evaluation.narrative]


def to_csv(evaluations: Sequence[Evaluation], community_name: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for evaluation in evaluations:
        writer.writerow(["" if v is None else spreadsheet_cell(str(v)) for v in _row(evaluation, community_name)])
    out.write(audit_stamp.csv_trailer())
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(evaluations: Sequence[Evaluation], community_name: str) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    summary.title = "评价汇总"
    summary.append(HEADERS)
    details = workbook.create_sheet("各项得分")
    details.append(SCORE_HEADERS)
    for sheet in (summary, details):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    for evaluation in evaluations:
        values = _row(evaluation, community_name)
        summary.append([float(v) if hasattr(v, "as_tuple") else spreadsheet_cell(v) for v in values])
        criteria = {c.id: c for c in evaluation.rubric.criteria}
        for score in sorted(evaluation.scores, key=lambda s: criteria[s.criterion_id].position):
            criterion = criteria[score.criterion_id]
            details.append([spreadsheet_cell(evaluation.organisation.name), evaluation.period, evaluation.version,
                            PART_ZH[criterion.part.value], spreadsheet_cell(criterion.name), criterion.weight,
                            float(score.score)])
    audit_stamp.add_xlsx_sheet(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
