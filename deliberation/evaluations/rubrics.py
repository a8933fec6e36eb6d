"""The default rubrics shipped for each kind of organisation.

They are community data (stored per community when its first organisation is registered, then
copied and adjusted by the Party branch), so their texts are Chinese data, not interface strings.
Weights: resident satisfaction 30 + management criteria 40 + comprehensive criteria 30 = 100.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultCriterion:
    name: str
    part: str  # "management" | "comprehensive"
    weight: int
    resident_facing: bool
    bands: tuple[str, str, str, str]  # what 优秀 (90–100), 良好 (80–89), 合格 (60–79), 不合格 (<60) look like


@dataclass(frozen=True)
class DefaultRubric:
    kind: str
    name: str
    satisfaction_weight: int
    criteria: tuple[DefaultCriterion, ...]


PROPERTY_FIRM = DefaultRubric(
    kind="property_firm",
    name="物业服务企业评价标准（默认）",
    satisfaction_weight=30,
    criteria=(
        DefaultCriterion("安全管理", "management", 8, True, (
            "消防设施完好，巡查记录完整，全年无安全责任事故，应急预案定期演练",
            "消防与安防设施基本完好，巡查有记录，偶有小隐患能及时整改",
            "有巡查制度但执行不严，隐患整改较慢",
            "消防通道堵塞或设施损坏长期未修，发生安全责任事故")),
        DefaultCriterion("环境卫生", "management", 8, True, (
            "公共区域每日清扫，垃圾分类规范，日产日清，无卫生死角",
            "清扫及时，垃圾分类基本规范，偶有遗漏",
            "清扫频次不足，垃圾分类不规范，居民有投诉",
            "垃圾堆积，蚊虫滋生，多次投诉未改")),
        DefaultCriterion("绿化养护", "management", 6, True, (
            "绿植长势良好，定期修剪施肥，无黄土裸露，病虫害及时防治",
            "绿化基本完好，修剪较及时",
            "部分绿地缺株、杂草较多",
            "绿地荒废或被侵占，长期无人养护")),
        DefaultCriterion("设施设备维护", "management", 10, False, (
            "电梯、水泵、照明等设备定期保养，档案齐全，报修 24 小时内响应",
            "设备运行正常，保养基本按计划，报修 48 小时内响应",
            "设备偶有停运，保养记录不全，维修拖延",
            "电梯等设备频繁故障，存在安全隐患未处置")),
        DefaultCriterion("秩序维护", "management", 8, True, (
            "门岗 24 小时值守，车辆停放有序，外来人员登记规范",
            "门岗值守到位，停车秩序基本良好",
            "值守有脱岗现象，停车较乱",
            "秩序混乱，治安事件频发")),
        DefaultCriterion("服务态度与投诉处理", "comprehensive", 15, True, (
            "文明礼貌，投诉 24 小时内回应、按期办结并回访",
            "态度良好，投诉能及时处理",
            "回应较慢，部分投诉未办结",
            "态度恶劣或对投诉置之不理")),
        DefaultCriterion("收费与公示", "comprehensive", 15, False, (
            "收费项目与标准公示齐全，公共收益按季公开，账目清楚",
            "公示基本齐全，公共收益按年公开",
            "公示不全或不及时",
            "擅自收费、未公示公共收益")),
    ),
)

OWNER_COMMITTEE = DefaultRubric(
    kind="owner_committee",
    name="业主委员会评价标准（默认）",
    satisfaction_weight=30,
    criteria=(
        DefaultCriterion("依法履职", "management", 15, True, (
            "严格依照业主大会议事规则和管理规约履职，按期召开会议，无违规行为",
            "基本依规履职，会议基本按期召开",
            "履职不够主动，个别事项程序不全",
            "违规决策、长期不履职或成员涉嫌谋取私利")),
        DefaultCriterion("财务公开", "comprehensive", 15, True, (
            "业主大会与业委会经费、公共收益按季公示，接受审计",
            "财务按年公示，账目清楚",
            "公示不及时或不完整",
            "拒不公开或账目混乱")),
        DefaultCriterion("议事规范", "management", 10, False, (
            "会议有通知、签到、记录和决议公告，重大事项依法表决",
            "会议记录基本完整，决议能公告",
            "会议记录不全，公告不及时",
            "无记录、不公告或代签表决")),
        DefaultCriterion("沟通回应", "comprehensive", 15, True, (
            "定期接待业主，意见建议 7 日内答复，与社区党组织、物业协调顺畅",
            "能接待并答复业主意见",
            "答复较慢，沟通渠道不畅",
            "拒不接待或回应业主诉求")),
        DefaultCriterion("维修资金管理", "management", 15, False, (
            "维修资金使用依法表决、公示，工程有验收、有结算审计",
            "使用程序基本规范，有公示",
            "表决或公示程序有缺漏",
            "违规使用或挪用维修资金")),
    ),
)

DEFAULT_RUBRICS = {PROPERTY_FIRM.kind: PROPERTY_FIRM, OWNER_COMMITTEE.kind: OWNER_COMMITTEE}
